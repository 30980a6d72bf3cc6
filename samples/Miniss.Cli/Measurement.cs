using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace Miniss.Cli;

/// <summary>
/// One worker's latencies: Stopwatch tick durations in a preallocated ring (the most recent samples are kept when a
/// worker does more operations than the ring holds), and the count of operations measured. Written by its worker only.
/// </summary>
internal sealed class WorkerStats
{
    private readonly long[] _samples;
    private readonly int _mask;
    private long _count;

    public WorkerStats(int capacity)
    {
        _samples = new long[capacity];
        _mask = capacity - 1;
    }

    /// <summary>Operations recorded so far (read by the progress display from another thread).</summary>
    public long Count => Volatile.Read(ref _count);

    public ReadOnlySpan<long> Samples => _samples.AsSpan(0, (int)Math.Min(_count, _samples.Length));

    /// <summary>Records one operation that started at <paramref name="started"/> if the run is in its measured phase.</summary>
    public void Record(RunPhase phase, long started)
    {
        long elapsed = Stopwatch.GetTimestamp() - started;
        if (phase.IsMeasuring)
        {
            long count = _count;
            _samples[(int)(count & _mask)] = elapsed;
            Volatile.Write(ref _count, count + 1);
        }
    }

    /// <summary>Preallocates <paramref name="workers"/> recorders sharing a budget of about 4 million samples.</summary>
    public static WorkerStats[] Create(int workers)
    {
        int capacity = (int)Math.Max(1024, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, (4 << 20) / workers)) >> 1);
        var stats = new WorkerStats[workers];
        for (int i = 0; i < workers; i++)
        {
            stats[i] = new WorkerStats(capacity);
        }

        return stats;
    }

    public static long Total(IReadOnlyList<WorkerStats> stats)
    {
        long total = 0;
        foreach (WorkerStats s in stats)
        {
            total += s.Count;
        }

        return total;
    }
}

/// <summary>The figures of one workload on one runtime.</summary>
internal sealed record BenchResult(
    string Workload,
    string Runtime,
    long Operations,
    double Seconds,
    double P50Microseconds,
    double P99Microseconds,
    double AllocatedBytesPerOperation)
{
    public double OperationsPerSecond => Seconds > 0 ? Operations / Seconds : 0;

    /// <summary>Miniss's throughput over .NET's for the same workload, set on the Miniss row when both ran.</summary>
    public double? RatioToDotNet { get; set; }

    public static (double P50, double P99) Percentiles(IReadOnlyList<WorkerStats> stats)
    {
        int total = 0;
        foreach (WorkerStats s in stats)
        {
            total += s.Samples.Length;
        }

        if (total == 0)
        {
            return (double.NaN, double.NaN);
        }

        long[] all = new long[total];
        int at = 0;
        foreach (WorkerStats s in stats)
        {
            s.Samples.CopyTo(all.AsSpan(at));
            at += s.Samples.Length;
        }

        Array.Sort(all);
        return (ToMicroseconds(all[Index(total, 0.50)]), ToMicroseconds(all[Index(total, 0.99)]));
    }

    private static int Index(int count, double quantile) => Math.Clamp((int)Math.Ceiling(quantile * count) - 1, 0, count - 1);

    private static double ToMicroseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}
