using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.Cli;

/// <summary>What every workload of one <c>miniss bench</c> shares: the options, the cancellation of Ctrl-C, and the
/// measurement loop (warm-up, measured window with live progress, stop).</summary>
internal sealed class BenchContext(BenchOptions options, TimeSpan stopTimeout, CancellationToken cancellation)
{
    public BenchOptions Options { get; } = options;

    public CancellationToken Cancellation { get; } = cancellation;

    public TimeSpan Duration => TimeSpan.FromSeconds(Options.DurationSeconds);

    /// <summary>How long the workers may take to return once told to stop.</summary>
    public TimeSpan StopTimeout { get; } = stopTimeout;

    public TimeSpan Warmup => TimeSpan.FromSeconds(Math.Min(0.5, Options.DurationSeconds / 4));

    /// <summary>
    /// Lets the started workers warm up, measures them for the duration (reporting progress through
    /// <paramref name="progress"/>), stops them and waits until every one has returned. On Ctrl-C the workers are
    /// stopped and awaited too, then <see cref="OperationCanceledException"/> is thrown. Workers that do not return
    /// within <see cref="StopTimeout"/> are left behind: a connection stuck for want of descriptors must not hang the run.
    /// </summary>
    /// <exception cref="CommandFailedException">The workers did not stop in time.</exception>
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
        try
        {
            await workers.WaitAsync(StopTimeout).ConfigureAwait(false);   // a worker's failure surfaces here
        }
        catch (Exception) when (cancelled)
        {
            // Interrupted: whatever the workers did on the way out, the run ends as interrupted.
        }
        catch (TimeoutException e)
        {
            throw new CommandFailedException(string.Create(CultureInfo.InvariantCulture,
                $"{workload} on {runtime}: {WorkerStats.Total(stats):N0} operations done, but the workers did not stop within {StopTimeout.TotalSeconds:0} s (a connection or read that never completes; see the log above)"), e);
        }

        if (cancelled)
        {
            throw new OperationCanceledException(Cancellation);
        }

        long total = WorkerStats.Total(stats);
        return new BenchResult(workload, runtime, total, (double)(ended - started) / Stopwatch.Frequency, WorkerStats.Merge(stats).Summarize(),
            total > 0 ? (double)(allocatedAfter - allocatedBefore) / total : double.NaN);
    }
}
