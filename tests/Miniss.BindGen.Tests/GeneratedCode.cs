using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Miniss.BindGen.Tests;

/// <summary>Reads facts back out of generated C# text.</summary>
internal static class GeneratedCode
{
    /// <summary>The <c>[FieldOffset]</c> of the one public data member called <paramref name="member"/>.</summary>
    public static int OffsetOf(string text, string member)
    {
        MatchCollection matches = Regex.Matches(
            text,
            $@"\[FieldOffset\((\d+)\)\]\n\s*\[NativeTypeName\(""[^""]*""\)\]\n\s*public [\w*.]+ @?{Regex.Escape(member)};");
        Assert.That(matches, Has.Count.EqualTo(1), $"expected one declaration of member '{member}' in:\n{text}");
        return int.Parse(matches[0].Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Every <c>[FieldOffset]</c> value of the text, in order.</summary>
    public static int[] AllOffsets(string text) =>
        Regex.Matches(text, @"\[FieldOffset\((\d+)\)\]").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>How many times <paramref name="fragment"/> occurs in <paramref name="text"/>.</summary>
    public static int Count(string text, string fragment) => Regex.Count(text, Regex.Escape(fragment));
}
