using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Buffers;
using Miniss.IO;
using Miniss.Net;
using Miniss.Storage;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Diagnostics;

/// <summary>
/// The <c>Miniss</c> meter, read through a <see cref="MeterListener"/> that listens to the test's own runtime only:
/// every instrument is published with its unit and tags, and a known workload moves each one by what it implies.
/// Counters are compared between two readings taken while the runtime does nothing else.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class MetricsTests(IoBackendKind backend) : BackendFixture(backend)
{
    private const string Counter = "ObservableCounter";
    private const string UpDown = "ObservableUpDownCounter";
    private const string Gauge = "ObservableGauge";
    private const string Histogram = "Histogram";

    /// <summary>The instruments docs/observability.md lists: name, kind, unit.</summary>
    private static readonly (string Name, string Kind, string Unit)[] s_instruments =
    [
        ("miniss.shard.ticks", Counter, "{tick}"),
        ("miniss.shard.time", Counter, "s"),
        ("miniss.shard.tasks", Counter, "{task}"),
        ("miniss.shard.sleeps", Counter, "{sleep}"),
        ("miniss.shard.wakeups", Counter, "{wakeup}"),
        ("miniss.shard.system_calls", Counter, "{call}"),
        ("miniss.shard.exceptions", Counter, "{exception}"),
        ("miniss.shard.stalls", Counter, "{stall}"),
        ("miniss.shard.stall.duration", Histogram, "s"),
        ("miniss.io.submissions", Counter, "{operation}"),
        ("miniss.io.completions", Counter, "{completion}"),
        ("miniss.io.in_flight", UpDown, "{operation}"),
        ("miniss.messages.sent", Counter, "{message}"),
        ("miniss.messages.received", Counter, "{message}"),
        ("miniss.messages.queued", UpDown, "{message}"),
        ("miniss.timers.fired", Counter, "{timer}"),
        ("miniss.timers.armed", UpDown, "{timer}"),
        ("miniss.buffer_pool.usage", UpDown, "By"),
        ("miniss.buffer_pool.peak_usage", Gauge, "By"),
        ("miniss.buffer_pool.reserved", UpDown, "By"),
        ("miniss.buffer_pool.limit", UpDown, "By"),
        ("miniss.buffer_pool.failures", Counter, "{failure}"),
        ("miniss.buffer_pool.registered", Gauge, "1"),
        ("miniss.server.connections.accepted", Counter, "{connection}"),
        ("miniss.server.connections.active", UpDown, "{connection}"),
        ("miniss.server.connections.faulted", Counter, "{connection}"),
        ("miniss.multishot.arms", Counter, "{arm}"),
        ("miniss.multishot.starvations", Counter, "{starvation}"),
        ("miniss.multishot.buffers.used", UpDown, "{buffer}"),
    ];

    /// <summary>The instruments with a third tag, and its values: one measurement per shard and value.</summary>
    private static readonly Dictionary<string, (string Tag, string[] Values)> s_extraTags = new()
    {
        ["miniss.shard.time"] = ("miniss.shard.state", ["busy", "idle"]),
        ["miniss.multishot.arms"] = ("miniss.multishot.operation", ["receive", "accept"]),
    };

    /// <summary>Two shards, no stall detector (a test that wants stalls says so), the fixture's backend.</summary>
    private static RuntimeScope StartRuntime(Action<RuntimeOptions>? configure = null)
    {
        var options = new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, StallThreshold = TimeSpan.Zero };
        configure?.Invoke(options);
        return RuntimeScope.Start(options);
    }

    [Test, CancelAfter(30_000)]
    public async Task Every_instrument_is_published_on_a_meter_named_Miniss_with_its_kind_and_unit()
    {
        await using RuntimeScope scope = StartRuntime();
        using var capture = new MeterCapture(scope.Runtime);

        Assert.That(capture.Instruments.Keys, Is.EquivalentTo(s_instruments.Select(i => i.Name)));
        Assert.Multiple(() =>
        {
            foreach ((string name, string kind, string unit) in s_instruments)
            {
                Instrument instrument = capture.Instruments[name];
                Assert.That(instrument.Meter.Name, Is.EqualTo("Miniss"), name);
                Assert.That(instrument.GetType().Name, Does.StartWith(kind + "`"), name);
                Assert.That(instrument.Unit, Is.EqualTo(unit), name);
                Assert.That(instrument.Description, Is.Not.Empty, name);
            }
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Every_observable_instrument_measures_each_shard_tagged_with_its_id_and_backend()
    {
        await using RuntimeScope scope = StartRuntime(o => o.ShardCount = 3);
        using var capture = new MeterCapture(scope.Runtime);

        Reading reading = capture.Collect();

        Assert.Multiple(() =>
        {
            foreach ((string name, string kind, _) in s_instruments.Where(i => i.Kind != Histogram))
            {
                Heard[] measurements = reading.Of(name).ToArray();
                var expected = new List<string>();
                for (int shard = 0; shard < 3; shard++)
                {
                    if (s_extraTags.TryGetValue(name, out (string Tag, string[] Values) extra))
                    {
                        expected.AddRange(extra.Values.Select(v => $"{shard}/{scope.Runtime.Backend.Name}/{v}"));
                    }
                    else
                    {
                        expected.Add($"{shard}/{scope.Runtime.Backend.Name}");
                    }
                }

                string[] seen = measurements.Select(m => s_extraTags.TryGetValue(name, out (string Tag, string[] Values) extra)
                    ? $"{m.Tags["miniss.shard"]}/{m.Tags["miniss.backend"]}/{m.Tags[extra.Tag]}"
                    : $"{m.Tags["miniss.shard"]}/{m.Tags["miniss.backend"]}").ToArray();
                Assert.That(seen, Is.EquivalentTo(expected), name);
                Assert.That(measurements.Select(m => m.Tags["miniss.shard"]), Is.All.InstanceOf<int>(), name);
            }
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task N_nops_are_N_submissions_and_N_completions_of_their_shard(CancellationToken token)
    {
        const int N = 500;
        await using RuntimeScope scope = StartRuntime();
        using var capture = new MeterCapture(scope.Runtime);
        Reading before = capture.Collect();

        await scope.Runtime.SubmitTo(1, static async () =>
        {
            for (int i = 0; i < N; i++)
            {
                await Shard.Current!.NopAsync();
            }

            return true;
        }).Within(token);
        Reading after = capture.Collect();

        Assert.Multiple(() =>
        {
            Assert.That(Delta(before, after, "miniss.io.submissions", 1), Is.EqualTo(N));
            Assert.That(Delta(before, after, "miniss.io.completions", 1), Is.EqualTo(N));
            Assert.That(Delta(before, after, "miniss.io.submissions", 0), Is.Zero, "shard 0 did no I/O");
            Assert.That(Delta(before, after, "miniss.io.completions", 0), Is.Zero, "shard 0 did no I/O");
            Assert.That(after.Value("miniss.io.in_flight", 1), Is.Zero);
            Assert.That(Delta(before, after, "miniss.shard.ticks", 1), Is.GreaterThanOrEqualTo(1));
        });

        // Each completion resumes the loop as a task; the last one, which hands the result over, is counted once it has
        // run, which may be a moment after the caller has it.
        await capture.CollectUntil(r => r.Value("miniss.shard.tasks", 1) - before.Value("miniss.shard.tasks", 1) >= N, token);
    }

    [Test, CancelAfter(30_000)]
    public async Task N_file_reads_are_N_submissions_and_N_completions(CancellationToken token)
    {
        const int N = 200;
        string path = Path.Combine(Path.GetTempPath(), $"miniss-metrics-{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(path, new byte[4096], token);
        try
        {
            await using RuntimeScope scope = StartRuntime();
            using var capture = new MeterCapture(scope.Runtime);
            BufferedFile file = await scope.Runtime.SubmitTo(0, () => BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read)).Within(token);
            Reading before = capture.Collect();

            long read = await scope.Runtime.SubmitTo(0, async () =>
            {
                byte[] buffer = new byte[4096];
                long total = 0;
                for (int i = 0; i < N; i++)
                {
                    total += await IoOperations.ReadAsync(file.Handle, buffer, 0);
                }

                return total;
            }).Within(token);
            Reading after = capture.Collect();
            await scope.Runtime.SubmitTo(0, async () =>
            {
                await file.DisposeAsync();
                return true;
            }).Within(token);

            Assert.That(read, Is.EqualTo(N * 4096L));
            Assert.That(Delta(before, after, "miniss.io.submissions", 0), Is.EqualTo(N));
            Assert.That(Delta(before, after, "miniss.io.completions", 0), Is.EqualTo(N));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task M_calls_from_one_shard_to_another_are_M_messages_each_way(CancellationToken token)
    {
        const int M = 300;
        await using RuntimeScope scope = StartRuntime();
        MinissRuntime runtime = scope.Runtime;
        using var capture = new MeterCapture(runtime);
        Reading before = capture.Collect();

        int sum = await runtime.SubmitTo(0, async () =>
        {
            int total = 0;
            for (int i = 0; i < M; i++)
            {
                total += await runtime.SubmitTo(1, static () => 1);
            }

            return total;
        }).Within(token);
        Reading after = capture.Collect();

        Assert.That(sum, Is.EqualTo(M));
        Assert.Multiple(() =>
        {
            Assert.That(Delta(before, after, "miniss.messages.sent", 0), Is.EqualTo(M), "requests");
            Assert.That(Delta(before, after, "miniss.messages.received", 1), Is.EqualTo(M), "requests");
            Assert.That(Delta(before, after, "miniss.messages.sent", 1), Is.EqualTo(M), "replies");
            Assert.That(Delta(before, after, "miniss.messages.received", 0), Is.EqualTo(M), "replies");
            Assert.That(after.Total("miniss.messages.queued"), Is.Zero);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Messages_waiting_for_a_busy_shard_are_its_queue_depth(CancellationToken token)
    {
        const int M = 100;
        await using RuntimeScope scope = StartRuntime();
        MinissRuntime runtime = scope.Runtime;
        using var capture = new MeterCapture(runtime);
        using var release = new ManualResetEventSlim();
        using var blocked = new ManualResetEventSlim();

        // Shard 1 is held inside a task, so the messages sent to it stay in its incoming ring.
        Task<bool> holding = runtime.SubmitTo(1, () =>
        {
            blocked.Set();
            return release.Wait(TimeSpan.FromSeconds(50));
        }).AsTask();
        Task<int>[] calls;
        try
        {
            Assert.That(blocked.Wait(TimeSpan.FromSeconds(30), token), Is.True);
            calls = await runtime.SubmitTo(0, () =>
            {
                var sent = new Task<int>[M];
                for (int i = 0; i < M; i++)
                {
                    sent[i] = runtime.SubmitTo(1, static () => 1).AsTask();
                }

                return sent;
            }).Within(token);

            Reading waiting = await capture.CollectUntil(r => r.Value("miniss.messages.queued", 1) == M, token);
            Assert.That(waiting.Value("miniss.messages.queued", 0), Is.Zero);
        }
        finally
        {
            release.Set();
        }

        Assert.That(await holding.WaitAsync(token), Is.True, "shard 1 was released, not timed out");
        Assert.That((await Task.WhenAll(calls).WaitAsync(token)).Sum(), Is.EqualTo(M));
        await capture.CollectUntil(r => r.Total("miniss.messages.queued") == 0, token);
    }

    [Test, CancelAfter(30_000)]
    public async Task A_blocking_task_adds_to_busy_time_and_a_delay_to_the_loop_time_it_sleeps_through(CancellationToken token)
    {
        await using RuntimeScope scope = StartRuntime();
        using var capture = new MeterCapture(scope.Runtime);

        Reading start = capture.Collect();
        await scope.Runtime.SubmitTo(1, static () =>
        {
            Thread.Sleep(200);
            return true;
        }).Within(token);
        Reading afterBlocking = capture.Collect();
        await scope.Runtime.SubmitTo(1, static async () =>
        {
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(200));
            return true;
        }).Within(token);
        Reading afterDelay = capture.Collect();

        // A blocked task is busy time whatever the machine does meanwhile. A delay is idle time from the loop's view, but
        // a shard thread kept off its CPU while it has work counts that wait as busy: only the sum is certain there.
        Assert.Multiple(() =>
        {
            Assert.That(Delta(start, afterBlocking, "miniss.shard.time", 1, "busy"), Is.GreaterThanOrEqualTo(0.19));
            Assert.That(Delta(afterBlocking, afterDelay, "miniss.shard.time", 1, "idle"), Is.Positive, "the shard slept through the delay");
            Assert.That(
                Delta(afterBlocking, afterDelay, "miniss.shard.time", 1, "idle") + Delta(afterBlocking, afterDelay, "miniss.shard.time", 1, "busy"),
                Is.GreaterThanOrEqualTo(0.19),
                "busy and idle time together are the loop's wall-clock time");
            Assert.That(Delta(start, afterBlocking, "miniss.shard.time", 1, "idle"), Is.GreaterThanOrEqualTo(0));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Armed_timers_are_counted_until_cancelled_and_fired_ones_once_each(CancellationToken token)
    {
        const int K = 25;
        await using RuntimeScope scope = StartRuntime();
        using var capture = new MeterCapture(scope.Runtime);
        using var cancel = new CancellationTokenSource();

        Task[] armed = await scope.Runtime.SubmitTo(1, () =>
        {
            var waits = new Task[K];
            for (int i = 0; i < K; i++)
            {
                waits[i] = Shard.Current!.Delay(TimeSpan.FromHours(1), cancel.Token).AsTask();
            }

            return waits;
        }).Within(token);
        Reading whileArmed = await capture.CollectUntil(r => r.Value("miniss.timers.armed", 1) == K, token);
        await cancel.CancelAsync();
        foreach (Task wait in armed)
        {
            Assert.That(async () => await wait.WaitAsync(token), Throws.InstanceOf<OperationCanceledException>());
        }

        await capture.CollectUntil(r => r.Value("miniss.timers.armed", 1) == 0, token);
        await scope.Runtime.SubmitTo(1, static async () =>
        {
            for (int i = 0; i < K; i++)
            {
                await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
            }

            return true;
        }).Within(token);
        Reading after = capture.Collect();

        Assert.That(whileArmed.Value("miniss.timers.armed", 0), Is.Zero);
        Assert.That(Delta(whileArmed, after, "miniss.timers.fired", 1), Is.EqualTo(K), "the cancelled ones never fired");
    }

    [Test, CancelAfter(30_000)]
    public async Task Buffer_pool_usage_peak_limit_and_failures_follow_allocations(CancellationToken token)
    {
        await using RuntimeScope scope = StartRuntime();
        MinissRuntime runtime = scope.Runtime;
        using var capture = new MeterCapture(runtime);
        Reading before = capture.Collect();

        BufferHandle[] held = await runtime.SubmitTo(0, static () =>
        {
            BufferPool pool = Shard.Current!.Buffers;
            return new[] { pool.Allocate(4096)!.Value, pool.Allocate(4096)!.Value, pool.Allocate(4096)!.Value, pool.Allocate(6000)!.Value };
        }).Within(token);
        Reading holding = capture.Collect();
        bool refused = await runtime.SubmitTo(0, () =>
        {
            BufferPool pool = Shard.Current!.Buffers;
            foreach (BufferHandle buffer in held)
            {
                pool.Deallocate(buffer);
            }

            return pool.Allocate(2 << 20) is null;
        }).Within(token);
        Reading after = capture.Collect();

        const long inUse = (3 * 4096) + 8192;
        Assert.That(refused, Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(before.Value("miniss.buffer_pool.usage", 0), Is.Zero);
            Assert.That(holding.Value("miniss.buffer_pool.usage", 0), Is.EqualTo(inUse), "capacity of the buffers held");
            Assert.That(holding.Value("miniss.buffer_pool.usage", 1), Is.Zero, "shard 1 allocated nothing");
            Assert.That(holding.Value("miniss.buffer_pool.reserved", 0), Is.GreaterThanOrEqualTo(inUse));
            Assert.That(after.Value("miniss.buffer_pool.usage", 0), Is.Zero, "every buffer went back");
            Assert.That(after.Value("miniss.buffer_pool.peak_usage", 0), Is.EqualTo(inUse), "the peak stays");
            Assert.That(Delta(before, after, "miniss.buffer_pool.failures", 0), Is.EqualTo(1), "a request larger than the largest class");
            Assert.That(after.Value("miniss.buffer_pool.limit", 1), Is.EqualTo(16L << 20));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Registered_buffer_state_is_1_exactly_when_the_pool_is_registered_with_the_ring()
    {
        await using RuntimeScope scope = StartRuntime();
        using var capture = new MeterCapture(scope.Runtime);

        Reading reading = capture.Collect();

        for (int shard = 0; shard < 2; shard++)
        {
            Assert.That(reading.Value("miniss.buffer_pool.registered", shard), Is.EqualTo(scope.Runtime[shard].HasFixedBuffers ? 1 : 0));
        }

        if (Backend == IoBackendKind.Epoll)
        {
            Assert.That(reading.Total("miniss.buffer_pool.registered"), Is.Zero, "epoll has no ring to register with");
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task Registered_buffer_state_is_0_when_registration_is_turned_off()
    {
        await using RuntimeScope scope = StartRuntime(o => o.RegisterBuffers = false);
        using var capture = new MeterCapture(scope.Runtime);

        Assert.That(capture.Collect().Total("miniss.buffer_pool.registered"), Is.Zero);
    }

    [Test, CancelAfter(60_000)]
    public async Task Connections_through_a_server_are_counted_accepted_active_and_faulted(CancellationToken token)
    {
        const int K = 6;
        await using RuntimeScope scope = StartRuntime();
        MinissRuntime runtime = scope.Runtime;
        using var capture = new MeterCapture(runtime);
        Reading before = capture.Collect();
        await using ShardServer server = await ShardServer.StartAsync(runtime, AnyLoopbackPort, static async connection =>
        {
            // Echo one byte, then wait for the end of stream; "x" makes the handler throw.
            byte[] one = new byte[1];
            if (await connection.ReceiveAsync(one) == 0)
            {
                return;
            }

            if (one[0] == (byte)'x')
            {
                throw new InvalidOperationException("the client asked this handler to fail");
            }

            await connection.SendAsync(one);
            while (await connection.ReceiveAsync(one) > 0)
            {
            }
        }).Within(token);

        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < K; i++)
            {
                Socket client = await ConnectDotNetAsync(server.LocalEndPoint, token);
                clients.Add(client);
                await client.SendAsync("a"u8.ToArray(), SocketFlags.None, token);
                byte[] echoed = new byte[1];
                Assert.That(await client.ReceiveAsync(echoed, SocketFlags.None, token), Is.EqualTo(1));
            }

            Reading open = await capture.CollectUntil(r => r.Total("miniss.server.connections.active") == K, token);
            Assert.That(Delta(before, open, "miniss.server.connections.accepted"), Is.EqualTo(K));
            Assert.That(open.Of("miniss.server.connections.active").Select(m => m.Shard), Is.EquivalentTo(new[] { 0, 1 }));

            using (Socket failing = await ConnectDotNetAsync(server.LocalEndPoint, token))
            {
                await failing.SendAsync("x"u8.ToArray(), SocketFlags.None, token);
                await capture.CollectUntil(r => r.Total("miniss.server.connections.faulted") == 1, token);
            }
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }

        Reading closed = await capture.CollectUntil(r => r.Total("miniss.server.connections.active") == 0, token);
        Assert.Multiple(() =>
        {
            Assert.That(Delta(before, closed, "miniss.server.connections.accepted"), Is.EqualTo(K + 1));
            Assert.That(Delta(before, closed, "miniss.server.connections.faulted"), Is.EqualTo(1));
            Assert.That(server.AcceptedConnections, Is.EqualTo(K + 1));
            for (int shard = 0; shard < 2; shard++)
            {
                MultishotStatistics statistics = runtime[shard].MultishotStatistics;
                Assert.That(closed.Value("miniss.multishot.arms", shard, "miniss.multishot.operation", "accept"), Is.EqualTo(statistics.AcceptsArmed));
                Assert.That(closed.Value("miniss.multishot.arms", shard, "miniss.multishot.operation", "receive"), Is.EqualTo(statistics.ReceivesArmed));
            }

            if (Backend == IoBackendKind.IoUring)
            {
                Assert.That(Delta(before, closed, "miniss.multishot.arms", "miniss.multishot.operation", "accept"), Is.GreaterThanOrEqualTo(2),
                    "each shard's listener accepts with a multishot accept");
            }
            else
            {
                Assert.That(closed.Total("miniss.multishot.arms"), Is.Zero, "readiness backends arm no multishot operation");
            }
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Unread_data_holds_provided_buffers_and_a_ring_run_dry_counts_starvations(CancellationToken token)
    {
        // A ring of 16 buffers of 4 KiB (io_uring only): a connection that has read 10 of 100 KB holds buffers; a slow
        // reader of 2 MiB runs the ring dry (ENOBUFS) and its receive is armed again. Readiness backends have no ring.
        await using RuntimeScope scope = StartRuntime(o =>
        {
            o.ReceiveBufferCount = 16;
            o.ReceiveBufferSize = 4096;
        });
        MinissRuntime runtime = scope.Runtime;
        using var capture = new MeterCapture(runtime);
        using ShardListener listener = ShardListener.Bind(AnyLoopbackPort);
        Reading before = capture.Collect();

        Task<ShardConnection> holding = runtime.SubmitTo(0, async () =>
        {
            ShardConnection server = await listener.AcceptAsync();
            await ReceiveExactlyAsync(server, new byte[10]);
            return server;
        }).AsTask();
        using (Socket peer = await ConnectDotNetAsync(listener.LocalEndPoint, token))
        {
            await peer.SendAsync(RandomBytes(100_000, seed: 31), SocketFlags.None, token);
            ShardConnection held = await holding.WaitAsync(token);
            Reading unread = Backend == IoBackendKind.IoUring
                ? await capture.CollectUntil(r => r.Value("miniss.multishot.buffers.used", 0) > 0, token)
                : capture.Collect();
            Assert.That(unread.Value("miniss.multishot.buffers.used", 1), Is.Zero, "shard 1 received nothing");
            await runtime.SubmitTo(0, () => held.Dispose()).Within(token);
        }

        await capture.CollectUntil(r => r.Total("miniss.multishot.buffers.used") == 0, token);

        byte[] payload = RandomBytes(2 << 20, seed: 32);
        Task<int> reading = runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection server = await listener.AcceptAsync();
            byte[] data = new byte[payload.Length];
            int total = 0;
            int reads = 0;
            while (total < data.Length)
            {
                int received = await server.ReceiveAsync(data.AsMemory(total, Math.Min(3000, data.Length - total)));
                if (received == 0)
                {
                    break;
                }

                total += received;
                if (++reads % 64 == 0)
                {
                    await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
                }
            }

            return total;
        }).AsTask();
        using (Socket peer = await ConnectDotNetAsync(listener.LocalEndPoint, token))
        {
            await peer.SendAsync(payload, SocketFlags.None, token);
            Assert.That(await reading.WaitAsync(token), Is.EqualTo(payload.Length));
        }

        Reading after = capture.Collect();
        MultishotStatistics statistics = runtime[0].MultishotStatistics;
        Assert.Multiple(() =>
        {
            Assert.That(after.Value("miniss.multishot.starvations", 0), Is.EqualTo(statistics.BufferStarvations));
            Assert.That(after.Value("miniss.multishot.arms", 0, "miniss.multishot.operation", "receive"), Is.EqualTo(statistics.ReceivesArmed));
            if (Backend == IoBackendKind.IoUring)
            {
                Assert.That(Delta(before, after, "miniss.multishot.starvations"), Is.GreaterThanOrEqualTo(1), "the ring ran dry");
                Assert.That(Delta(before, after, "miniss.multishot.arms", "miniss.multishot.operation", "receive"), Is.GreaterThanOrEqualTo(3),
                    "one receive per connection, and again after the ring ran dry");
            }
            else
            {
                Assert.That(after.Total("miniss.multishot.starvations") + after.Total("miniss.multishot.arms"), Is.Zero, "no ring, no multishot receive");
            }
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Exceptions_escaping_work_on_a_shard_are_counted_on_that_shard(CancellationToken token)
    {
        await using RuntimeScope scope = StartRuntime();
        using var capture = new MeterCapture(scope.Runtime);
        Reading before = capture.Collect();

        await scope.Runtime.SubmitTo(1, static () =>
        {
            // Posted work has nobody to throw to: what escapes it is the shard's to report.
            Shard.Current!.SynchronizationContext.Post(static _ => throw new InvalidOperationException("escapes"), null);
            Shard.Current!.SynchronizationContext.Post(static _ => throw new InvalidOperationException("escapes too"), null);
            return true;
        }).Within(token);
        Reading after = await capture.CollectUntil(r => r.Value("miniss.shard.exceptions", 1) - before.Value("miniss.shard.exceptions", 1) >= 2, token);

        Assert.That(Delta(before, after, "miniss.shard.exceptions", 1), Is.EqualTo(2));
        Assert.That(Delta(before, after, "miniss.shard.exceptions", 0), Is.Zero);
    }

    [Test, CancelAfter(30_000)]
    public async Task A_stall_is_recorded_in_the_duration_histogram_with_its_shard(CancellationToken token)
    {
        var threshold = TimeSpan.FromMilliseconds(20);
        await using RuntimeScope scope = StartRuntime(o => o.StallThreshold = threshold);
        using var capture = new MeterCapture(scope.Runtime);
        Reading before = capture.Collect();

        await scope.Runtime.SubmitTo(1, static async () =>
        {
            await Task.Yield();
            Thread.Sleep(300);
            return true;
        }).Within(token);
        await capture.CollectUntil(r => r.Value("miniss.shard.stalls", 1) > before.Value("miniss.shard.stalls", 1), token);

        // The detector counts a stall, then records its duration: the record may follow the count by a moment.
        for (DateTime deadline = DateTime.UtcNow.AddSeconds(30); !capture.Recorded.Any(m => m.Shard == 1) && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(5, token);
        }

        Heard[] stalls = capture.Recorded.Where(m => m.Instrument == "miniss.shard.stall.duration").ToArray();
        Assert.That(stalls, Is.Not.Empty);
        Assert.That(stalls.Select(m => m.Shard), Has.Member(1));
        Assert.That(stalls.Where(m => m.Shard == 1).Select(m => m.Value), Has.All.GreaterThanOrEqualTo(threshold.TotalSeconds));
        Assert.That(stalls.Select(m => m.Tags["miniss.backend"]), Has.All.EqualTo(scope.Runtime.Backend.Name));
    }

    [Test, CancelAfter(30_000)]
    public async Task Stopping_the_runtime_ends_its_instruments()
    {
        RuntimeScope scope = StartRuntime();
        using var capture = new MeterCapture(scope.Runtime);
        Assert.That(capture.Collect().All, Is.Not.Empty);

        await scope.DisposeAsync();

        Assert.That(capture.Completed, Is.EquivalentTo(s_instruments.Select(i => i.Name)));
        Assert.That(capture.Collect().All, Is.Empty);
    }

    [Test, CancelAfter(30_000)]
    public async Task With_a_meter_factory_the_meter_comes_from_the_factory_which_keeps_it()
    {
        using var factory = new RecordingMeterFactory();
        RuntimeScope scope = StartRuntime(o => o.MeterFactory = factory);
        Meter meter = scope.Runtime.Metrics!.Meter;
        using var capture = new MeterCapture(meter);

        Assert.That(factory.Created, Is.EqualTo(new[] { meter }));
        Assert.That(meter.Name, Is.EqualTo("Miniss"));
        Assert.That(capture.Instruments.Keys, Is.EquivalentTo(s_instruments.Select(i => i.Name)));
        Assert.That(capture.Collect().Of("miniss.shard.ticks").Count(), Is.EqualTo(2));

        await scope.DisposeAsync();

        Assert.That(capture.Completed, Is.Empty, "the factory's meter is the factory's to dispose");
        Assert.That(capture.Collect().All, Is.Empty, "a stopped runtime is observed no more");
    }

    private static double Delta(Reading before, Reading after, string instrument, int shard, string? state = null) => state is null
        ? after.Value(instrument, shard) - before.Value(instrument, shard)
        : after.Value(instrument, shard, "miniss.shard.state", state) - before.Value(instrument, shard, "miniss.shard.state", state);

    private static double Delta(Reading before, Reading after, string instrument) => after.Total(instrument) - before.Total(instrument);

    private static double Delta(Reading before, Reading after, string instrument, string tag, string value) =>
        after.Of(instrument).Where(m => Equals(m.Tags[tag], value)).Sum(m => m.Value)
        - before.Of(instrument).Where(m => Equals(m.Tags[tag], value)).Sum(m => m.Value);

    /// <summary>A meter factory that creates a new meter per call and keeps them, as a host's does, until disposed.</summary>
    private sealed class RecordingMeterFactory : IMeterFactory
    {
        public List<Meter> Created { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            Created.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (Meter meter in Created)
            {
                meter.Dispose();
            }
        }
    }
}
