using System;
using System.Collections.Generic;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Readiness;
using Miniss.IO.Uring;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.IO;

/// <summary>The <see cref="IIoBackend"/> contract, for every backend this machine can run.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class IoBackendTests(IoBackendKind backend) : BackendFixture(backend)
{
    private IIoBackend Create(uint entries, uint completionEntries = 0) => Backend switch
    {
        IoBackendKind.IoUring => IoUringBackend.Create(entries, completionEntries),
        IoBackendKind.Epoll => EpollBackend.Create((int)Math.Max(completionEntries, entries)),
        _ => throw new NotSupportedException(Backend.ToString()),
    };

    private static long SystemCalls(IIoBackend backend) => backend switch
    {
        IoUringBackend uring => uring.SystemCalls,
        EpollBackend epoll => epoll.SystemCalls,
        _ => throw new NotSupportedException(backend.Name),
    };

    [Test]
    public void The_backend_names_itself()
    {
        using IIoBackend backend = Create(8);
        Assert.That(backend.Name, Is.EqualTo(IoBackendSelection.NameOf(Backend)));
    }

    [Test]
    public void A_nop_completes_with_zero_and_its_user_data()
    {
        using IIoBackend backend = Create(8);
        backend.Submit(IoOperation.Nop(42));

        Span<IoCompletion> completions = stackalloc IoCompletion[4];
        int count = backend.Poll(TimeSpan.FromSeconds(5), completions);

        Assert.That(count, Is.EqualTo(1));
        Assert.That(completions[0].UserData, Is.EqualTo(42UL));
        Assert.That(completions[0].Result, Is.Zero);
    }

    [Test]
    public void Submitting_costs_no_system_call_and_a_batch_costs_one()
    {
        using IIoBackend backend = Create(64);
        long before = SystemCalls(backend);
        for (ulong i = 0; i < 32; i++)
        {
            backend.Submit(IoOperation.Nop(i));
        }

        Assert.That(SystemCalls(backend), Is.EqualTo(before), "queuing operations must not enter the kernel");
        Span<IoCompletion> completions = stackalloc IoCompletion[64];
        int count = backend.Poll(TimeSpan.Zero, completions);

        Assert.That(count, Is.EqualTo(32));
        // io_uring hands the batch over in one io_uring_enter; a readiness backend runs no-ops without the kernel.
        Assert.That(SystemCalls(backend), Is.EqualTo(before + (Backend == IoBackendKind.IoUring ? 1 : 0)));
    }

    [Test]
    public void An_empty_poll_makes_no_system_call()
    {
        using IIoBackend backend = Create(8);
        Span<IoCompletion> completions = stackalloc IoCompletion[4];
        long before = SystemCalls(backend);

        for (int i = 0; i < 1000; i++)
        {
            Assert.That(backend.Poll(TimeSpan.Zero, completions), Is.Zero);
        }

        Assert.That(SystemCalls(backend), Is.EqualTo(before));
    }

    [Test]
    public void A_full_submission_queue_is_flushed_and_no_operation_or_completion_is_lost()
    {
        // Two submission entries and four completion entries for a thousand operations: the submission queue fills
        // hundreds of times and the completion queue overflows into the kernel's backlog.
        using IIoBackend backend = Create(2, 4);
        const int total = 1000;
        for (ulong i = 0; i < total; i++)
        {
            backend.Submit(IoOperation.Nop(i));
        }

        var seen = new HashSet<ulong>();
        Span<IoCompletion> completions = stackalloc IoCompletion[3];
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (seen.Count < total && DateTime.UtcNow < deadline)
        {
            int count = backend.Poll(TimeSpan.FromMilliseconds(100), completions);
            for (int i = 0; i < count; i++)
            {
                Assert.That(seen.Add(completions[i].UserData), Is.True, $"completion {completions[i].UserData} delivered twice");
                Assert.That(completions[i].Result, Is.Zero);
            }
        }

        Assert.That(seen, Has.Count.EqualTo(total));
    }

    [Test]
    public void A_timeout_completes_with_etime_after_its_delay()
    {
        using IIoBackend backend = Create(8);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        backend.Submit(IoOperation.TimeoutAfter(TimeSpan.FromMilliseconds(30), 7));

        Span<IoCompletion> completions = stackalloc IoCompletion[2];
        int count = backend.Poll(TimeSpan.FromSeconds(5), completions);

        Assert.That(count, Is.EqualTo(1));
        Assert.That(completions[0].Result, Is.EqualTo(-Errno.ETIME));
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(29)));
    }

    [Test]
    public void Cancelling_a_pending_timeout_completes_it_with_ecanceled()
    {
        using IIoBackend backend = Create(8);
        IoHandle handle = backend.Submit(IoOperation.TimeoutAfter(TimeSpan.FromSeconds(30), 9));
        Span<IoCompletion> completions = stackalloc IoCompletion[2];
        Assert.That(backend.Poll(TimeSpan.Zero, completions), Is.Zero);

        Assert.That(backend.Cancel(handle), Is.True);
        int count = backend.Poll(TimeSpan.FromSeconds(5), completions);

        Assert.That(count, Is.EqualTo(1), "only the cancelled operation reports; the cancel request itself does not");
        Assert.That(completions[0].UserData, Is.EqualTo(9UL));
        Assert.That(completions[0].Result, Is.EqualTo(-Errno.ECANCELED));
    }

    [Test]
    public void A_poll_with_a_timeout_and_nothing_in_flight_returns_after_the_timeout()
    {
        using IIoBackend backend = Create(8);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Span<IoCompletion> completions = stackalloc IoCompletion[2];

        Assert.That(backend.Poll(TimeSpan.FromMilliseconds(20), completions), Is.Zero);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(19)));
    }
}
