using System;
using System.Diagnostics;

namespace Miniss.NetBenchmarks;

/// <summary>
/// Request latencies in log-linear buckets (64 per power of two, so a percentile is within about 1.6% of the true
/// value), in nanoseconds. Fixed size, so recording allocates nothing; one per connection, merged at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 6;
    private const int Linear = 2 << SubBits; // values below 128 ns get a bucket each
    private readonly long[] _counts = new long[Linear + ((64 - SubBits - 1) << SubBits)];

    /// <summary>Requests recorded.</summary>
    public long Count { get; private set; }

    /// <summary>Records the time from <paramref name="startedTimestamp"/> (a <see cref="Stopwatch"/> timestamp) to now.</summary>
    public void RecordSince(long startedTimestamp)
    {
        long nanoseconds = (long)(Stopwatch.GetElapsedTime(startedTimestamp).Ticks * (1_000_000_000.0 / TimeSpan.TicksPerSecond));
        _counts[Index(Math.Max(0, nanoseconds))]++;
        Count++;
    }

    /// <summary>Adds <paramref name="other"/>'s counts to this one's.</summary>
    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
    }

    /// <summary>The latency below which <paramref name="fraction"/> of the requests fall, in microseconds.</summary>
    public double PercentileMicroseconds(double fraction)
    {
        long rank = (long)Math.Ceiling(fraction * Count);
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank && seen > 0)
            {
                return Midpoint(i) / 1000.0;
            }
        }

        return double.NaN;
    }

    private static int Index(long value)
    {
        if (value < Linear)
        {
            return (int)value;
        }

        int exponent = 63 - (int)long.LeadingZeroCount(value); // >= SubBits + 1
        int shift = exponent - SubBits;
        int sub = (int)(value >> shift) & ((1 << SubBits) - 1);
        return Linear + ((exponent - SubBits - 1) << SubBits) + sub;
    }

    private static double Midpoint(int index)
    {
        if (index < Linear)
        {
            return index;
        }

        int exponent = ((index - Linear) >> SubBits) + SubBits + 1;
        int sub = (index - Linear) & ((1 << SubBits) - 1);
        int shift = exponent - SubBits;
        double low = (double)(((1L << SubBits) | (long)sub) << shift);
        return low + ((1L << shift) / 2.0);
    }
}
