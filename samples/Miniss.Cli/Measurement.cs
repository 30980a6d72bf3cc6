using System.Collections.Generic;
using System.Diagnostics;

namespace Miniss.Cli;

/// <summary>
/// One worker's latencies, in a <see cref="LatencyHistogram"/> (fixed size: recording allocates nothing), and the count
/// of operations measured. Written by its worker only.
/// </summary>
internal sealed class WorkerStats
{
    private readonly LatencyHistogram _latencies = new();

    /// <summary>Operations recorded so far (read by the progress display from another thread).</summary>
    public long Count => _latencies.Count;

    /// <summary>Records one operation that started at <paramref name="started"/> if the run is in its measured phase.</summary>
    public void Record(RunPhase phase, long started)
    {
        long elapsed = Stopwatch.GetTimestamp() - started;
        if (phase.IsMeasuring)
        {
            _latencies.Record(elapsed);
        }
    }

    /// <summary>Creates <paramref name="workers"/> recorders.</summary>
    public static WorkerStats[] Create(int workers)
    {
        var stats = new WorkerStats[workers];
        for (int i = 0; i < workers; i++)
        {
            stats[i] = new WorkerStats();
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

    /// <summary>Every worker's latencies merged, once the workers are done.</summary>
    public static LatencyHistogram Merge(IReadOnlyList<WorkerStats> stats)
    {
        var all = new LatencyHistogram();
        foreach (WorkerStats s in stats)
        {
            all.Add(s._latencies);
        }

        return all;
    }
}

/// <summary>The figures of one workload on one runtime.</summary>
internal sealed record BenchResult(
    string Workload,
    string Runtime,
    long Operations,
    double Seconds,
    LatencySummary? Latency,
    double AllocatedBytesPerOperation)
{
    public double OperationsPerSecond => Seconds > 0 ? Operations / Seconds : 0;

    /// <summary>Miniss's throughput over .NET's for the same workload, set on the Miniss row when both ran.</summary>
    public double? RatioToDotNet { get; set; }

    /// <summary>The Miniss backend the row ran on; <see langword="null"/> for .NET's rows.</summary>
    public string? Backend { get; init; }
}
