using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.Cli;

/// <summary>What every workload of one <c>miniss bench</c> shares: the options, the cancellation of Ctrl-C, and the
/// measurement loop (warm-up, measured window with live progress, stop).</summary>
internal sealed class BenchContext(BenchOptions options, CancellationToken cancellation)
{
    public BenchOptions Options { get; } = options;

    public CancellationToken Cancellation { get; } = cancellation;

    public TimeSpan Duration => TimeSpan.FromSeconds(Options.DurationSeconds);

    public TimeSpan Warmup => TimeSpan.FromSeconds(Math.Min(0.5, Options.DurationSeconds / 4));

    /// <summary>
    /// Lets the started workers warm up, measures them for the duration (reporting progress through
    /// <paramref name="progress"/>), stops them and waits until every one has returned. On Ctrl-C the workers are
    /// stopped and awaited too, then <see cref="OperationCanceledException"/> is thrown.
    /// </summary>
    public async Task<BenchResult> MeasureAsync(string workload, string runtime, RunPhase phase, IReadOnlyList<WorkerStats> stats,
        Task workers, Action<string> progress)
    {
        bool cancelled = false;
        long allocatedBefore = 0;
        long allocatedAfter = 0;
        long started = 0;
        long ended = 0;
        try
        {
            progress($"{workload}, {runtime}: warming up");
            await Task.WhenAny(workers, Task.Delay(Warmup, Cancellation)).ConfigureAwait(false);
            Cancellation.ThrowIfCancellationRequested();
            allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            started = Stopwatch.GetTimestamp();
            phase.BeginMeasuring();
            long deadline = started + (long)(Duration.TotalSeconds * Stopwatch.Frequency);
            while (!workers.IsCompleted)
            {
                long now = Stopwatch.GetTimestamp();
                if (now >= deadline)
                {
                    break;
                }

                double elapsed = (double)(now - started) / Stopwatch.Frequency;
                long operations = WorkerStats.Total(stats);
                progress(string.Create(CultureInfo.InvariantCulture,
                    $"{workload}, {runtime}: {elapsed:F1} / {Duration.TotalSeconds:F1} s, {operations:N0} operations, {(elapsed > 0 ? operations / elapsed : 0):N0}/s"));
                long wait = Math.Min(deadline - now, Stopwatch.Frequency / 4);
                await Task.WhenAny(workers, Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), Cancellation)).ConfigureAwait(false);
                Cancellation.ThrowIfCancellationRequested();
            }

            ended = Stopwatch.GetTimestamp();
            phase.BeginStopping();
            allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
        }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested)
        {
            cancelled = true;
        }
        finally
        {
            phase.BeginStopping();
        }

        progress($"{workload}, {runtime}: stopping the workers");
        await workers.ConfigureAwait(false);   // a worker's failure surfaces here
        if (cancelled)
        {
            throw new OperationCanceledException(Cancellation);
        }

        long total = WorkerStats.Total(stats);
        (double p50, double p99) = BenchResult.Percentiles(stats);
        return new BenchResult(workload, runtime, total, (double)(ended - started) / Stopwatch.Frequency, p50, p99,
            total > 0 ? (double)(allocatedAfter - allocatedBefore) / total : double.NaN);
    }
}
