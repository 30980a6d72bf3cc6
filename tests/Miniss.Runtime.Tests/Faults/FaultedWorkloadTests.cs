using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;
using Miniss.IO.FaultInjection;
using Miniss.Net;
using Miniss.Storage;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Faults.FaultTestSupport;

namespace Miniss.Runtime.Tests.Faults;

/// <summary>
/// The runtime under a seeded random schedule of every engine fault, on every backend: files written and read back,
/// an echo server with a few clients, timers and cross-shard calls, where any operation may fail. The workload
/// counts the failures it meets; the runtime must not crash, hang, corrupt data, leak a descriptor or a pool
/// buffer, or leave an operation in flight. Replay a seed with <c>MINISS_FAULT_SEED</c>.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
[NonParallelizable]
public sealed class FaultedWorkloadTests(IoBackendKind backend) : BackendFixture(backend)
{
    private const double Rate = 0.03;

    public static IEnumerable<int> CiSeeds() => Seeds(20261205, 7, 424242);

    [TestCaseSource(nameof(CiSeeds)), CancelAfter(120_000)]
    public async Task A_mixed_workload_survives_random_faults(int seed, CancellationToken token)
    {
        FaultSchedule schedule = Schedule(seed, Rate);
        TestContext.Out.WriteLine($"fault schedule: {schedule} on {Backend} (replay with {SeedVariable}={seed})");
        string directory = Storage.StorageTestSupport.CreateTempDirectory("miniss-faults");
        Dictionary<string, string> descriptorsBefore = OpenDescriptors();
        var escaped = new ConcurrentQueue<string>();
        var tally = new Tally();
        MinissRuntime runtime = Start(schedule, escaped);
        bool stopped = false;
        try
        {
            long[] poolBefore = await runtime.InvokeOnAll(() => Shard.Current!.Buffers.Stats.AllocatedBytes).AsTask().WaitAsync(Ceiling, token);

            ShardServer? server = await StartServerAsync(runtime, tally, token);
            EndPoint? endPoint = server?.LocalEndPoint;
            await runtime.InvokeOnAll(() => RunOnShardAsync(endPoint, directory, seed, tally, token)).AsTask().WaitAsync(Ceiling * 2, token);
            if (server is not null)
            {
                await server.StopAsync().AsTask().WaitAsync(Ceiling, token);
            }

            // Everything the workload started has ended: no promise or multishot operation may still be pending
            // (the last completions of the server's cancelled accepts may take a moment to arrive).
            int[] inFlight = await InFlightAsync(runtime, token);
            for (DateTime deadline = DateTime.UtcNow + Ceiling; inFlight is not [0, 0] && DateTime.UtcNow < deadline; inFlight = await InFlightAsync(runtime, token))
            {
                await Task.Delay(5, token);
            }

            bool settled = inFlight is [0, 0];
            long[] poolAfter = await runtime.InvokeOnAll(() => Shard.Current!.Buffers.Stats.AllocatedBytes).AsTask().WaitAsync(Ceiling, token);

            await StopAsync(runtime, token);
            stopped = true;
            TestContext.Out.WriteLine($"{Describe(schedule)}; workload: {tally}");

            Assert.Multiple(() =>
            {
                Assert.That(escaped, Is.Empty, "no exception escapes a shard");
                Assert.That(tally.Defects, Is.Empty, "operations fail only with I/O errors, and what succeeds is correct");
                Assert.That(settled, Is.True, $"nothing stays in flight (in flight per shard: {string.Join(", ", inFlight)})");
                Assert.That(poolAfter, Is.EqualTo(poolBefore), "every shard's buffer pool is back to its baseline");
                Assert.That(NewDescriptors(descriptorsBefore), Is.Empty, "no descriptor is left open");
                Assert.That(schedule.InjectedTotal(), Is.GreaterThan(0), "faults were injected");
                Assert.That(tally.Succeeded, Is.GreaterThan(0), "some of the workload got through");
            });
        }
        finally
        {
            if (!stopped)
            {
                await runtime.StopAsync().AsTask().WaitAsync(Ceiling, CancellationToken.None).ContinueWith(static _ => { }, TaskScheduler.Default);
            }

            Storage.StorageTestSupport.DeleteDirectory(directory);
        }
    }

    private static Task<int[]> InFlightAsync(MinissRuntime runtime, CancellationToken token) =>
        runtime.InvokeOnAll(() => OperationsInFlight(Shard.Current!)).AsTask().WaitAsync(Ceiling, token);

    private static async Task<ShardServer?> StartServerAsync(MinissRuntime runtime, Tally tally, CancellationToken token)
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                return await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Loopback, 0), Net.NetTestSupport.Echo).AsTask().WaitAsync(Ceiling, token);
            }
            catch (Exception e) when (IsOperationFailure(e))
            {
                tally.Failed("server start", e);
            }
        }

        return null;
    }

    /// <summary>One shard's share of the workload, all of it at once.</summary>
    private static async ValueTask RunOnShardAsync(EndPoint? endPoint, string directory, int seed, Tally tally, CancellationToken token)
    {
        int shard = Shard.Current!.Id;
        var work = new List<Task>
        {
            BufferedFilesAsync(Path.Combine(directory, $"buffered-{shard}"), seed + shard, tally, token),
            DmaFilesAsync(Path.Combine(directory, $"direct-{shard}"), seed + shard, tally, token),
            TimersAsync(tally, token),
            CrossShardCallsAsync(shard, tally),
            NopsAsync(tally),
        };

        if (endPoint is not null)
        {
            for (int client = 0; client < 3; client++)
            {
                work.Add(EchoClientAsync(endPoint, seed * 31 + shard * 7 + client, tally, token));
            }
        }

        await Task.WhenAll(work);
    }

    private static async Task BufferedFilesAsync(string path, int seed, Tally tally, CancellationToken token)
    {
        byte[] data = Storage.StorageTestSupport.RandomBytes(96 * 1024 + 123, seed);
        for (int round = 0; round < 4; round++)
        {
            try
            {
                await using BufferedFile file = await BufferedFile.OpenAsync($"{path}-{round}", FileMode.Create, cancellationToken: token);
                await file.WriteAllAsync(0, data, token);
                byte[] back = new byte[data.Length];
                int total = 0;
                while (total < back.Length)
                {
                    int read = await file.ReadAsync(total, back.AsMemory(total), token);
                    if (read == 0)
                    {
                        tally.Defect($"buffered file: end of file after {total} of {data.Length} bytes written");
                        break;
                    }

                    total += read;
                }

                tally.Check("buffered file", back.AsSpan().SequenceEqual(data));
            }
            catch (Exception e)
            {
                tally.Failed("buffered file", e);
            }
        }
    }

    private static async Task DmaFilesAsync(string path, int seed, Tally tally, CancellationToken token)
    {
        byte[] data = Storage.StorageTestSupport.RandomBytes(64 * 1024, seed);
        for (int round = 0; round < 3; round++)
        {
            try
            {
                await using DmaFile file = await DmaFile.OpenAsync($"{path}-{round}", FileMode.Create, cancellationToken: token);
                using AlignedBuffer buffer = file.AllocateBuffer(data.Length);
                data.CopyTo(buffer.GetSpan());
                int written = 0;
                while (written < data.Length)
                {
                    written += await file.WriteAsync(written, buffer.Memory[written..data.Length], token);
                }

                buffer.GetSpan().Clear();
                int total = 0;
                while (total < data.Length)
                {
                    int read = await file.ReadAsync(total, buffer.Memory[total..data.Length], token);
                    if (read == 0)
                    {
                        tally.Defect($"direct file: end of file after {total} of {data.Length} bytes written");
                        break;
                    }

                    total += read;
                }

                tally.Check("direct file", buffer.GetSpan()[..data.Length].SequenceEqual(data));
            }
            catch (Exception e)
            {
                tally.Failed("direct file", e);
            }
        }
    }

    private static async Task EchoClientAsync(EndPoint endPoint, int seed, Tally tally, CancellationToken token)
    {
        byte[] payload = Net.NetTestSupport.RandomBytes(48 * 1024 + seed % 1000, seed);
        for (int round = 0; round < 2; round++)
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(token);
            bound.CancelAfter(TimeSpan.FromSeconds(20));
            try
            {
                await using ShardConnection client = await ShardConnection.ConnectAsync(endPoint, bound.Token);
                Task<byte[]> receiving = ReceiveToEndAsync(client, payload.Length, bound.Token);
                try
                {
                    await client.SendAsync(payload, bound.Token);
                    await client.ShutdownAsync(SocketShutdown.Send, bound.Token);
                }
                catch (Exception)
                {
                    // The server waits for the rest (or the end of stream) that will not come: give the connection up.
                    bound.Cancel();
                    await receiving.ContinueWith(static _ => { }, TaskScheduler.Current);
                    throw;
                }

                byte[] echoed = await receiving;
                if (echoed.Length < payload.Length && payload.AsSpan().StartsWith(echoed))
                {
                    // The server's side of the connection failed (an injected error) and closed it early.
                    tally.Cut("echo");
                }
                else
                {
                    tally.Check("echo", echoed.AsSpan().SequenceEqual(payload));
                }
            }
            catch (Exception e)
            {
                tally.Failed("echo", e);
            }
        }
    }

    private static async Task<byte[]> ReceiveToEndAsync(ShardConnection connection, int expected, CancellationToken token)
    {
        byte[] data = new byte[expected + 1];
        int total = 0;
        int received;
        while ((received = await connection.ReceiveAsync(data.AsMemory(total), token)) > 0)
        {
            total += received;
            if (total == data.Length)
            {
                break;
            }
        }

        return data[..total];
    }

    private static async Task TimersAsync(Tally tally, CancellationToken token)
    {
        for (int i = 0; i < 40; i++)
        {
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1 + i % 3), token);
        }

        tally.Check("timers", true);
    }

    private static async Task CrossShardCallsAsync(int shard, Tally tally)
    {
        MinissRuntime runtime = Shard.Current!.Runtime;
        int other = (shard + 1) % runtime.ShardCount;
        for (int i = 0; i < 200; i++)
        {
            int answer = await runtime.SubmitTo(other, () => Shard.Current!.Id);
            if (answer != other)
            {
                tally.Defect($"a call to shard {other} ran on shard {answer}");
                return;
            }
        }

        tally.Check("cross-shard calls", true);
    }

    private static async Task NopsAsync(Tally tally)
    {
        for (int i = 0; i < 300; i++)
        {
            try
            {
                await Shard.Current!.NopAsync();
                tally.Check("nop", true);
            }
            catch (Exception e)
            {
                tally.Failed("nop", e);
            }
        }
    }

    /// <summary>What the workload met: successes, tolerated failures by errno, and defects.</summary>
    private sealed class Tally
    {
        private readonly ConcurrentDictionary<string, int> _failures = new();
        private long _succeeded;

        public ConcurrentQueue<string> Defects { get; } = new();

        public long Succeeded => Interlocked.Read(ref _succeeded);

        public void Check(string what, bool correct)
        {
            if (correct)
            {
                Interlocked.Increment(ref _succeeded);
            }
            else
            {
                Defect($"{what}: the data that came back differs from what was written");
            }
        }

        public void Failed(string what, Exception e)
        {
            if (!IsOperationFailure(e))
            {
                Defect($"{what}: {e}");
                return;
            }

            string reason = e.Data["errno"] is int errno ? $"errno {errno}" : e.GetType().Name;
            _failures.AddOrUpdate($"{what} ({reason})", 1, static (_, n) => n + 1);
        }

        public void Cut(string what) => _failures.AddOrUpdate($"{what} (cut short)", 1, static (_, n) => n + 1);

        public void Defect(string description) => Defects.Enqueue(description);

        public override string ToString() => $"{Succeeded} succeeded; failed: {string.Join(", ", _failures)}";
    }
}
