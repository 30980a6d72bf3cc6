using System;
using System.Collections.Generic;

namespace Miniss.BindGen;

/// <summary>A clang target triple BindGen knows how to emit, with the C# names it maps to.</summary>
internal sealed record TargetTriple(string Triple, string Family, string Architecture)
{
    public static readonly IReadOnlyList<TargetTriple> All =
    [
        new("x86_64-linux-gnu", "Linux", "X64"),
        new("aarch64-linux-gnu", "Linux", "Arm64"),
        new("x86_64-apple-darwin", "Darwin", "X64"),
        new("arm64-apple-darwin", "Darwin", "Arm64"),
    ];

    public static TargetTriple Parse(string triple, string where)
    {
        foreach (TargetTriple target in All)
        {
            if (string.Equals(target.Triple, triple, StringComparison.Ordinal))
            {
                return target;
            }
        }

        throw new BindGenException($"{where}: unknown target '{triple}'. Known targets: {string.Join(", ", All.ConvertAll(t => t.Triple))}.");
    }

    public override string ToString() => Triple;
}

internal static class ListExtensions
{
    public static List<TOut> ConvertAll<TIn, TOut>(this IReadOnlyList<TIn> list, Func<TIn, TOut> map)
    {
        var result = new List<TOut>(list.Count);
        foreach (TIn item in list)
        {
            result.Add(map(item));
        }

        return result;
    }
}
