using System;
using System.Diagnostics;
using System.Threading;

namespace Miniss.Cli;

// Shared with bench/Miniss.NetBenchmarks, which compiles this file too: one latency histogram for every Miniss
// measurement. A source file rather than a type of the runtime: the runtime itself measures no latencies, and a public
// histogram would become part of the API the runtime packages promise to keep.

/// <summary>
/// Latencies in log-linear buckets, HDR style: every value below 128 has a bucket of its own, and each power of two above
/// has 64 buckets of equal width, so a percentile is within 1/128 of the value it stands for (the bucket's midpoint is
/// reported; the largest value is kept exactly). Values are <see cref="Stopwatch"/> ticks (nanoseconds on Linux); values
/// from 2^<see cref="HighestExponent"/> ticks up (68 s at one tick per nanosecond) share the last bucket.
/// </summary>
/// <remarks>
/// The buckets are allocated once (16 KiB), so <see cref="Record"/> allocates nothing. One histogram has one writer
/// thread (a worker, a connection, a shard); <see cref="Count"/> may be read from any thread while it writes. Histograms
/// are merged with <see cref="Add"/> once their writers are done, each shard's or worker's into one.
/// </remarks>
internal sealed class LatencyHistogram
{
    /// <summary>log2 of the buckets per power of two: 64 buckets, a relative width of 1/64.</summary>
    public const int SubBucketBits = 6;

    /// <summary>Values of 2^this or more are counted in the last bucket.</summary>
    public const int HighestExponent = 36;

    private const int SubBuckets = 1 << SubBucketBits;

    /// <summary>Values below this are counted exactly, one bucket each.</summary>
    private const int Linear = 2 << SubBucketBits;

    private const int BucketCount = Linear + ((HighestExponent - SubBucketBits - 1) << SubBucketBits);

    private readonly long[] _counts = new long[BucketCount];
    private long _count;
    private long _max;

    /// <summary>Values recorded so far. Safe to read from any thread while the writer records.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>The largest value recorded, exactly, in ticks; 0 when none was.</summary>
    public long Max => _max;

    /// <summary>Records one value, in <see cref="Stopwatch"/> ticks (a negative value counts as 0). Writer thread only;
    /// allocates nothing.</summary>
    public void Record(long ticks)
    {
        long value = Math.Max(0, ticks);
        _counts[Index(value)]++;
        if (value > _max)
        {
            _max = value;
        }

        Volatile.Write(ref _count, _count + 1);
    }

    /// <summary>Records the time from <paramref name="startedTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>) to now.</summary>
    public void RecordSince(long startedTimestamp) => Record(Stopwatch.GetTimestamp() - startedTimestamp);

    /// <summary>Adds <paramref name="other"/>'s values to this one's. Call once <paramref name="other"/>'s writer is done.</summary>
    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        _max = Math.Max(_max, other._max);
        Volatile.Write(ref _count, _count + other._count);
    }

    /// <summary>The value at or below which <paramref name="percentile"/> percent of the recorded values fall, in ticks:
    /// the midpoint of the bucket that holds it, never more than <see cref="Max"/> (which is p100, exactly).</summary>
    /// <returns>The value, or -1 when nothing was recorded.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percentile"/> is not within 0 to 100.</exception>
    public double ValueAtPercentile(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percentile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        long count = _count;
        if (count == 0)
        {
            return -1;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * count));
        if (rank >= count)
        {
            return _max;
        }

        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(Midpoint(i), _max);
            }
        }

        return _max;
    }

    /// <summary>p50, p90, p99, p99.9 and the maximum, in microseconds; <see langword="null"/> when nothing was recorded.</summary>
    public LatencySummary? Summarize() => _count == 0
        ? null
        : new LatencySummary(
            ToMicroseconds(ValueAtPercentile(50)),
            ToMicroseconds(ValueAtPercentile(90)),
            ToMicroseconds(ValueAtPercentile(99)),
            ToMicroseconds(ValueAtPercentile(99.9)),
            ToMicroseconds(_max));

    /// <summary>Stopwatch ticks in microseconds.</summary>
    public static double ToMicroseconds(double ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    /// <summary>The bucket of <paramref name="value"/>: the value itself below <see cref="Linear"/>, else 64 buckets per
    /// power of two, the top <see cref="SubBucketBits"/> bits below the leading one choosing among them.</summary>
    private static int Index(long value)
    {
        if (value < Linear)
        {
            return (int)value;
        }

        int exponent = 63 - (int)long.LeadingZeroCount(value);   // SubBucketBits + 1 or more
        if (exponent >= HighestExponent)
        {
            return BucketCount - 1;
        }

        int shift = exponent - SubBucketBits;
        int sub = (int)(value >> shift) & (SubBuckets - 1);
        return Linear + ((exponent - SubBucketBits - 1) << SubBucketBits) + sub;
    }

    /// <summary>The middle of bucket <paramref name="index"/>'s range (the value itself for an exact bucket).</summary>
    private static double Midpoint(int index)
    {
        if (index < Linear)
        {
            return index;
        }

        int exponent = ((index - Linear) >> SubBucketBits) + SubBucketBits + 1;
        int sub = (index - Linear) & (SubBuckets - 1);
        int shift = exponent - SubBucketBits;
        long low = ((long)SubBuckets | (long)sub) << shift;
        return low + ((1L << shift) / 2.0);
    }
}

/// <summary>The percentiles of one <see cref="LatencyHistogram"/>, in microseconds.</summary>
internal sealed record LatencySummary(double P50, double P90, double P99, double P999, double Max);
