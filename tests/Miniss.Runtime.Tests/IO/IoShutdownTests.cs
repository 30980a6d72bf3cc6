using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Miniss.IO;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Storage.StorageTestSupport;

namespace Miniss.Runtime.Tests.IO;

/// <summary>Stopping the runtime while operations are in flight: every await completes, nothing leaks.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class IoShutdownTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(30_000)]
    public async Task Stopping_with_two_thousand_pipe_reads_in_flight_completes_promptly_and_ends_every_await()
    {
        // A small run first, so that what the process opens once (assemblies mapped on first use) is in the baseline.
        _ = await StopWithReadsInFlight(10);
        int descriptorsBefore = OpenDescriptorCount();
        var descriptors = OpenDescriptors();

        (TimeSpan stopping, bool allEnded, Task<int>[] reads) = await StopWithReadsInFlight(1000);
        // Counted before any assertion runs: NUnit's constraints may map assemblies of their own.
        int descriptorsAfter = await SettledDescriptorCount(descriptorsBefore);
        string leaked = NewDescriptors(descriptors);

        Assert.That(stopping, Is.LessThan(TimeSpan.FromSeconds(3)));
        Assert.That(allEnded, Is.True);
        var outcomes = reads.GroupBy(r => r.IsCanceled ? "cancelled" : r.Exception?.InnerException?.GetType().Name ?? $"result {r.Result}")
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.That(outcomes.Keys, Is.SubsetOf(new[] { "cancelled", nameof(ObjectDisposedException) }), string.Join(", ", outcomes));
        Assert.That(outcomes.Values.Sum(), Is.EqualTo(2000));
        Assert.That(descriptorsAfter, Is.EqualTo(descriptorsBefore), "descriptors leaked: " + leaked);
    }

    [Test, CancelAfter(30_000)]
    public async Task Stopping_with_timeouts_and_reads_in_flight_on_both_shards_completes_every_await_with_cancellation()
    {
        (FileDescriptorHandle read, FileDescriptorHandle write) = CreatePipe();
        using var _ = read;
        using var __ = write;
        MinissRuntime runtime = MinissRuntime.Start(RuntimeScope.Options());
        Task<int>[] pending;
        try
        {
            Task<int>[][] started = await Task.WhenAll(Enumerable.Range(0, 2).Select(shard => runtime.SubmitTo(shard, () =>
                Enumerable.Range(0, 300).Select(i => i % 2 == 0
                    ? IoOperations.TimeoutAsync(TimeSpan.FromMinutes(5)).AsTask()
                    : IoOperations.ReadAsync(read, new byte[1], 0).AsTask()).ToArray()).AsTask())).Within(15);
            pending = started.SelectMany(p => p).ToArray();
        }
        catch
        {
            await runtime.StopAsync();
            throw;
        }

        await runtime.StopAsync().Within(10);
        await Task.WhenAll(pending).ContinueWith(_ => 0, TaskScheduler.Default).Within(5);

        Assert.That(pending.Where(p => !p.IsCanceled).Select(p => p.Status), Is.Empty);
    }

    [Test, CancelAfter(30_000)]
    public async Task An_operation_started_while_the_runtime_stops_throws_ObjectDisposedException()
    {
        (FileDescriptorHandle read, FileDescriptorHandle write) = CreatePipe();
        using var _ = read;
        using var __ = write;
        MinissRuntime runtime = MinissRuntime.Start(RuntimeScope.Options());
        var loopStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // A loop that retries its read whenever it is cancelled, until the runtime refuses a new one.
        ValueTask<List<string>> loop = runtime.SubmitTo(1, async () =>
        {
            var outcomes = new List<string>();
            loopStarted.SetResult();
            for (int i = 0; i < 100; i++)
            {
                try
                {
                    await IoOperations.ReadAsync(read, new byte[4], 0);
                    outcomes.Add("read");
                }
                catch (OperationCanceledException)
                {
                    outcomes.Add("cancelled");
                }
                catch (ObjectDisposedException)
                {
                    outcomes.Add("refused");
                    break;
                }
            }

            return outcomes;
        });
        await loopStarted.Task.Within(10);
        await Task.Delay(50);

        await runtime.StopAsync().Within(10);
        List<string> seen = await loop.Within(5);

        Assert.That(seen, Is.EqualTo(new[] { "cancelled", "refused" }));
    }

    [Test, CancelAfter(30_000)]
    public async Task Disposing_a_handle_with_reads_in_flight_defers_its_close_until_they_complete()
    {
        (FileDescriptorHandle read, FileDescriptorHandle write) = CreatePipe();
        using var __ = write;
        string pipe = new FileInfo($"/proc/self/fd/{read.Descriptor}").LinkTarget!;
        MinissRuntime runtime = MinissRuntime.Start(RuntimeScope.Options());
        Task<int>[] reads;
        try
        {
            reads = await runtime.SubmitTo(0, () => Enumerable.Range(0, 50).Select(_ => IoOperations.ReadAsync(read, new byte[1], 0).AsTask()).ToArray()).Within(15);
            await Task.Delay(50);
            read.Dispose();
            Assert.That(DescriptorsOf(pipe), Is.EqualTo(2), "the read end stays open while the kernel uses it");

            // Feed every read: each completes with its byte, and the last one to finish closes the descriptor.
            WriteTo(write, new byte[50]);
            int[] results = await Task.WhenAll(reads).Within(10);
            Assert.That(results, Is.All.EqualTo(1));
            Assert.That(DescriptorsOf(pipe), Is.EqualTo(1), "the read end is closed once the last read completed");
        }
        finally
        {
            await runtime.StopAsync().Within(10);
        }
    }

    /// <summary>Starts a runtime, parks <paramref name="perShard"/> reads of empty pipes on each shard, stops the runtime,
    /// waits for every read's await, and closes the pipes.</summary>
    private static async Task<(TimeSpan Stopping, bool AllEnded, Task<int>[] Reads)> StopWithReadsInFlight(int perShard)
    {
        var pipes = new List<(FileDescriptorHandle Read, FileDescriptorHandle Write)> { CreatePipe(), CreatePipe() };
        MinissRuntime runtime = MinissRuntime.Start(RuntimeScope.Options());
        Task<int>[] reads;
        try
        {
            Task<int>[][] perShardReads = await Task.WhenAll(Enumerable.Range(0, 2).Select(shard => runtime.SubmitTo(shard, () =>
            {
                FileDescriptorHandle read = pipes[shard].Read;
                return Enumerable.Range(0, perShard).Select(_ => IoOperations.ReadAsync(read, new byte[16], 0).AsTask()).ToArray();
            }).AsTask())).Within(15);
            reads = perShardReads.SelectMany(r => r).ToArray();

            // Let the shards hand everything to the kernel and go to sleep.
            await Task.Delay(100);
            Assert.That(reads.Count(r => r.IsCompleted), Is.Zero, "nothing can complete: the pipes are empty");
        }
        catch
        {
            await runtime.StopAsync();
            throw;
        }

        var clock = Stopwatch.StartNew();
        await runtime.StopAsync().Within(10);
        TimeSpan stopping = clock.Elapsed;
        bool allEnded = await Task.WhenAll(reads).ContinueWith(_ => true, TaskScheduler.Default).Within(5);
        foreach ((FileDescriptorHandle read, FileDescriptorHandle write) in pipes)
        {
            read.Dispose();
            write.Dispose();
        }

        return (stopping, allEnded, reads);
    }

    private static int DescriptorsOf(string target) =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd").Count(entry =>
        {
            try
            {
                return new FileInfo(entry).LinkTarget == target;
            }
            catch (IOException)
            {
                return false;
            }
        });
}
