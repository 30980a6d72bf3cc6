using System.Collections.Generic;

namespace Miniss.BenchCheck;

/// <summary>What a row compares Miniss with.</summary>
internal enum Counterpart
{
    /// <summary>.NET's own way of doing the same work (a channel, <c>Socket</c>, <c>RandomAccess</c>).</summary>
    DotNet,

    /// <summary>The C floor of bench/native (liburing, two pinned threads).</summary>
    C,
}

/// <summary>
/// One guarded ratio: Miniss's speed over its counterpart's on the same work in the same run (above 1 Miniss is
/// faster). Ratios, not absolute figures, because the machine's speed moves between runs far more than the ratio of
/// two figures taken minutes apart.
/// </summary>
/// <param name="Id">The row's name in the baseline file and in the printed table.</param>
/// <param name="Description">What is measured, in a few words.</param>
/// <param name="Against">What Miniss is compared with.</param>
/// <param name="Miniss">Miniss's figure.</param>
/// <param name="Other">The counterpart's figure.</param>
internal sealed record RatioRow(string Id, string Description, Counterpart Against, Figure Miniss, Figure Other)
{
    /// <summary>The ratio measured in <paramref name="figures"/>, or <see langword="null"/> when either figure is
    /// missing or not a positive number.</summary>
    public double? Measure(IReadOnlyDictionary<string, double> figures)
    {
        if (!figures.TryGetValue(Miniss.Key, out double miniss) || !figures.TryGetValue(Other.Key, out double other)
            || !(miniss > 0) || !(other > 0) || double.IsInfinity(miniss) || double.IsInfinity(other))
        {
            return null;
        }

        return Miniss.Speed(miniss) / Other.Speed(other);
    }
}
