using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Uring;
using Miniss.Net;
using Microsoft.Win32.SafeHandles;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.IO;

/// <summary>How a shard's ring is set up and entered: its registered descriptor, and submission-queue polling with
/// its refusals.</summary>
[TestFixture]
[Platform("Linux")]
public sealed class RingSetupTests
{
    private static bool IoUringUsable => IoBackendSelection.ProbeIoUring(new RuntimeOptions()) is null;

    private static readonly SubmissionPollingRequest RequiredPolling = new(SubmissionQueuePolling.Required, 1, null);

    [SetUp]
    public void RequireIoUring() => Assume.That(IoUringUsable, "io_uring cannot be used in this process");

    [Test]
    public void A_ring_enters_by_its_registered_descriptor_where_the_kernel_allows()
    {
        bool kernelAllows = IoUringCapabilities.Probe().RegisteredRingDescriptor;
        using IoUringBackend ring = IoUringBackend.Create(8, 16, IoUringBackend.DefaultFlags);

        Assert.That(ring.UsesRegisteredRing, Is.EqualTo(kernelAllows));
        CompleteNop(ring);
        Assert.That(ring.EnterCalls, Is.GreaterThan(0));
    }

    [Test]
    public void Disposing_a_ring_releases_its_registered_descriptor()
    {
        Assume.That(IoUringCapabilities.Probe().RegisteredRingDescriptor, "the kernel cannot register ring descriptors (Linux 5.18)");

        // A thread may hold 16 registered rings at a time: each of these must give its slot back when disposed.
        for (int i = 0; i < 40; i++)
        {
            using IoUringBackend ring = IoUringBackend.Create(4, 8, IoUringBackend.DefaultFlags);
            Assert.That(ring.UsesRegisteredRing, Is.True, $"ring {i} found no free registration slot");
            CompleteNop(ring);
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task Every_shard_of_a_runtime_enters_its_ring_by_its_registered_descriptor(CancellationToken token)
    {
        Assume.That(IoUringCapabilities.Probe().RegisteredRingDescriptor, "the kernel cannot register ring descriptors (Linux 5.18)");
        await using var scope = RuntimeScope.Start(new RuntimeOptions { Backend = IoBackendKind.IoUring, ShardCount = 2 });

        for (int shard = 0; shard < 2; shard++)
        {
            bool registered = await scope.Runtime.SubmitTo(shard, static () => Shard.Current!.Ring.UsesRegisteredRing).Within(token);
            Assert.That(registered, Is.True, $"shard {shard}");
        }

        // Sleeping and waking go through io_uring_enter too.
        await scope.Runtime.SubmitTo(0, static async () => await Shard.Current!.Delay(TimeSpan.FromMilliseconds(5))).Within(token);
    }

    [Test]
    public void A_polled_ring_writes_and_reads_a_file()
    {
        using IoUringBackend ring = IoUringBackend.Create(8, 16, IoUringBackend.DefaultFlags, RequiredPolling);
        Assert.That(ring.UsesSubmissionPolling, Is.True);
        Assert.That(ring.SetupFlags & IoUring.IORING_SETUP_SQPOLL, Is.Not.Zero);

        WriteThenRead(ring, 0);
    }

    [Test]
    public void A_polled_ring_wakes_its_poller_after_it_has_gone_to_sleep()
    {
        using IoUringBackend ring = IoUringBackend.Create(8, 16, IoUringBackend.DefaultFlags, RequiredPolling);

        // The poller sleeps after 1 ms without submissions; a pause far longer than that lets it, however loaded the
        // machine, and each submission after it must wake the poller or never complete.
        DateTime deadline = DateTime.UtcNow + Bounded.Ceiling;
        for (int round = 0; ring.PollerWakeups == 0; round++)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the poller was never seen asleep");
            Thread.Sleep(50);
            WriteThenRead(ring, round);
        }
    }

    [Test]
    public unsafe void A_polled_ring_hands_over_more_submissions_than_its_queue_holds()
    {
        using IoUringBackend ring = IoUringBackend.Create(4, 64, IoUringBackend.DefaultFlags, RequiredPolling);
        const int count = 40;
        for (int i = 0; i < count; i++)
        {
            io_uring_sqe* sqe = ring.NextSqe();
            sqe->opcode = IoUring.IORING_OP_NOP;
            sqe->user_data = (ulong)i + 1;
        }

        var seen = new HashSet<ulong>();
        DateTime deadline = DateTime.UtcNow + Bounded.Ceiling;
        while (seen.Count < count)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"{seen.Count} of {count} NOPs completed");
            ring.Wait(100_000_000);
            while (ring.TryReap(out IoCompletion completion))
            {
                Assert.That(seen.Add(completion.UserData), Is.True, $"completion {completion.UserData} twice");
            }
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task A_runtime_with_required_polling_serves_connections_timers_and_messages(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(new RuntimeOptions
        {
            Backend = IoBackendKind.IoUring,
            ShardCount = 2,
            SubmissionQueuePolling = SubmissionQueuePolling.Required,
            SubmissionPollingIdle = TimeSpan.FromMilliseconds(1),
        });
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);

        byte[] payload = RandomBytes(200_000, seed: 15);
        byte[] echoed = await scope.Runtime.SubmitTo(1, async () =>
        {
            await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(20));
            return await RoundTripAsync(client, payload);
        }).Within(token);

        AssertSameBytes(echoed, payload);
        for (int shard = 0; shard < 2; shard++)
        {
            bool polled = await scope.Runtime.SubmitTo(shard, static () => Shard.Current!.Ring.UsesSubmissionPolling).Within(token);
            Assert.That(polled, Is.True, $"shard {shard}");
        }
    }

    [Test]
    public void Required_polling_on_a_cpu_outside_the_process_fails_start_with_the_reason()
    {
        var refused = Assert.Throws<NotSupportedException>(() => MinissRuntime.Start(new RuntimeOptions
        {
            Backend = IoBackendKind.IoUring,
            ShardCount = 1,
            SubmissionQueuePolling = SubmissionQueuePolling.Required,
            SubmissionPollingCpu = 1000,
        }));

        Assert.That(refused!.Message, Does.Contain("RuntimeOptions.SubmissionPollingCpu is 1000")
            .And.Contain("may run only on CPUs").And.Contain("choose one of those"));
    }

    [Test]
    public void Required_polling_on_the_epoll_backend_fails_start_with_the_reason()
    {
        var refused = Assert.Throws<NotSupportedException>(() => MinissRuntime.Start(new RuntimeOptions
        {
            Backend = IoBackendKind.Epoll,
            ShardCount = 1,
            SubmissionQueuePolling = SubmissionQueuePolling.Required,
        }));

        Assert.That(refused!.Message, Does.Contain("exists only with io_uring").And.Contain("epoll").And.Contain("Auto or Off"));
    }

    [Test, CancelAfter(30_000)]
    public async Task Auto_polling_refused_runs_without_it_and_says_why_once(CancellationToken token)
    {
        var logger = new CollectingLogger();
        await using var scope = RuntimeScope.Start(new RuntimeOptions
        {
            Backend = IoBackendKind.IoUring,
            ShardCount = 2,
            SubmissionQueuePolling = SubmissionQueuePolling.Auto,
            SubmissionPollingCpu = 1000,
            LoggerFactory = new Support.OneLoggerFactory(logger),
        });

        for (int shard = 0; shard < 2; shard++)
        {
            bool polled = await scope.Runtime.SubmitTo(shard, static () => Shard.Current!.Ring.UsesSubmissionPolling).Within(token);
            Assert.That(polled, Is.False, $"shard {shard}");
        }

        List<(LogLevel Level, int Id, string Text)> refusals = logger.Lines.FindAll(static line => line.Id == 11);
        Assert.That(refusals, Has.Count.EqualTo(1));
        Assert.That(refusals[0].Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(refusals[0].Text, Does.Contain("without submission-queue polling").And.Contain("SubmissionPollingCpu is 1000"));
    }

    [Test]
    public void The_kernel_s_refusals_of_polling_are_sentences_that_say_what_to_change()
    {
        string privilege = SubmissionPollingRequest.Explain(Errno.EPERM, RequiredPolling);
        string oldKernel = SubmissionPollingRequest.Explain(Errno.EINVAL, RequiredPolling);
        string cpu = SubmissionPollingRequest.Explain(Errno.EINVAL, RequiredPolling with { Cpu = 3 });

        Assert.That(privilege, Does.Contain("EPERM").And.Contain("CAP_SYS_ADMIN").And.Contain("SubmissionQueuePolling to Off"));
        Assert.That(oldKernel, Does.Contain("too old").And.Contain("5.11").And.Contain("SubmissionQueuePolling to Off"));
        Assert.That(cpu, Does.Contain("CPU 3").And.Contain("cpuset").And.Contain("SubmissionPollingCpu"));
        Assert.That(SubmissionPollingRequest.ExplainOnlyFixedFiles, Does.Contain("IORING_FEAT_SQPOLL_NONFIXED").And.Contain("5.11"));
    }

    [TestCase(nameof(RuntimeOptions.IdleStrategy))]
    [TestCase(nameof(RuntimeOptions.SpinBeforeSleep))]
    [TestCase(nameof(RuntimeOptions.SubmissionQueuePolling))]
    [TestCase(nameof(RuntimeOptions.SubmissionPollingIdle) + "=0")]
    [TestCase(nameof(RuntimeOptions.SubmissionPollingIdle) + "=1.5")]
    [TestCase(nameof(RuntimeOptions.SubmissionPollingIdle) + "=long")]
    [TestCase(nameof(RuntimeOptions.SubmissionPollingCpu))]
    public void An_out_of_range_idle_or_polling_option_is_refused_naming_it(string option)
    {
        var options = new RuntimeOptions { ShardCount = 1 };
        switch (option)
        {
            case "IdleStrategy": options.IdleStrategy = (IdleStrategy)7; break;
            case "SpinBeforeSleep": options.SpinBeforeSleep = TimeSpan.FromSeconds(2); break;
            case "SubmissionQueuePolling": options.SubmissionQueuePolling = (SubmissionQueuePolling)7; break;
            case "SubmissionPollingIdle=0": options.SubmissionPollingIdle = TimeSpan.Zero; break;
            case "SubmissionPollingIdle=1.5": options.SubmissionPollingIdle = TimeSpan.FromMilliseconds(1.5); break;
            case "SubmissionPollingIdle=long": options.SubmissionPollingIdle = TimeSpan.FromSeconds(11); break;
            default: options.SubmissionPollingCpu = -1; break;
        }

        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => MinissRuntime.Start(options));

        string name = option.Split('=')[0];
        Assert.That(refused!.ParamName, Is.EqualTo(name));
        Assert.That(refused.Message, Does.Contain("RuntimeOptions." + name));
    }

    private static unsafe void CompleteNop(IoUringBackend ring)
    {
        io_uring_sqe* sqe = ring.NextSqe();
        sqe->opcode = IoUring.IORING_OP_NOP;
        sqe->user_data = 42;
        ring.Wait(Bounded.Ceiling.Ticks * 100);
        Assert.That(ring.TryReap(out IoCompletion completion), Is.True, "the NOP did not complete");
        Assert.That(completion.UserData, Is.EqualTo(42UL));
        Assert.That(completion.Result, Is.Zero);
    }

    /// <summary>Writes 4 KiB at block <paramref name="round"/> of a temporary file through the ring, reads it back
    /// through the ring, and checks the bytes.</summary>
    private static unsafe void WriteThenRead(IoUringBackend ring, int round)
    {
        string path = Path.GetTempFileName();
        byte* written = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
        byte* read = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
        try
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
            int fd = (int)file.DangerousGetHandle();
            new Span<byte>(written, 4096).Fill((byte)(round + 1));
            new Span<byte>(read, 4096).Clear();

            Transfer(ring, IoUring.IORING_OP_WRITE, fd, written, (ulong)round * 4096, 1);
            Transfer(ring, IoUring.IORING_OP_READ, fd, read, (ulong)round * 4096, 2);

            Assert.That(new Span<byte>(read, 4096).SequenceEqual(new Span<byte>(written, 4096)), Is.True, "the bytes read differ from those written");
        }
        finally
        {
            NativeMemory.AlignedFree(written);
            NativeMemory.AlignedFree(read);
            File.Delete(path);
        }
    }

    private static unsafe void Transfer(IoUringBackend ring, byte opcode, int fd, byte* buffer, ulong offset, ulong userData)
    {
        io_uring_sqe* sqe = ring.NextSqe();
        sqe->opcode = opcode;
        sqe->fd = fd;
        sqe->addr = (ulong)buffer;
        sqe->len = 4096;
        sqe->off = offset;
        sqe->user_data = userData;

        DateTime deadline = DateTime.UtcNow + Bounded.Ceiling;
        IoCompletion completion;
        while (!ring.TryReap(out completion))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"operation {opcode} did not complete");
            ring.Wait(100_000_000);
        }

        Assert.That(completion.UserData, Is.EqualTo(userData));
        Assert.That(completion.Result, Is.EqualTo(4096), $"operation {opcode}");
    }

    /// <summary>Keeps every message logged, with its level and event id.</summary>
    private sealed class CollectingLogger : ILogger
    {
        private readonly List<(LogLevel, int, string)> _lines = [];

        public List<(LogLevel Level, int Id, string Text)> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add((logLevel, eventId.Id, formatter(state, exception)));
            }
        }
    }
}
