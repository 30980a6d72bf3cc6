using System;

namespace Miniss.Benchmarking;

/// <summary>A generated section of a docs page, between a begin and an end marker line; the rest of the page is the
/// authors'. Shared by the networking benchmarks and the soak (each compiles this file).</summary>
internal static class DocumentSection
{
    /// <summary>Puts <paramref name="section"/> (markers included) in place of the one between
    /// <paramref name="beginMarker"/> and <paramref name="endMarker"/>, or at the end of the page.</summary>
    public static string Replace(string page, string section, string beginMarker, string endMarker)
    {
        int begin = page.IndexOf(beginMarker, StringComparison.Ordinal);
        int end = page.IndexOf(endMarker, StringComparison.Ordinal);
        if (begin >= 0 && end > begin)
        {
            int after = end + endMarker.Length;
            if (after < page.Length && page[after] == '\n')
            {
                after++;
            }

            return page[..begin] + section + page[after..];
        }

        return page.Length == 0 ? section : page.TrimEnd('\n') + "\n\n" + section;
    }
}
