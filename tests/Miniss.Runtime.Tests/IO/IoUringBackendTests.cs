using System;
using System.Collections.Generic;
using System.Linq;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Uring;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.IO;

[TestFixture]
[Platform("Linux")]
public sealed unsafe class IoUringBackendTests
{
    [Test]
    public void A_nop_completes_with_zero_and_its_user_data()
    {
        using IoUringBackend backend = IoUringBackend.Create(8);
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
        using IoUringBackend backend = IoUringBackend.Create(64);
        long before = backend.SystemCalls;
        for (ulong i = 0; i < 32; i++)
        {
            backend.Submit(IoOperation.Nop(i));
        }

        Assert.That(backend.SystemCalls, Is.EqualTo(before), "queuing operations must not enter the kernel");
        Span<IoCompletion> completions = stackalloc IoCompletion[64];
        int count = backend.Poll(TimeSpan.Zero, completions);

        Assert.That(count, Is.EqualTo(32));
        Assert.That(backend.SystemCalls, Is.EqualTo(before + 1));
    }

    [Test]
    public void An_empty_poll_makes_no_system_call()
    {
        using IoUringBackend backend = IoUringBackend.Create(8);
        Span<IoCompletion> completions = stackalloc IoCompletion[4];
        long before = backend.SystemCalls;

        for (int i = 0; i < 1000; i++)
        {
            Assert.That(backend.Poll(TimeSpan.Zero, completions), Is.Zero);
        }

        Assert.That(backend.SystemCalls, Is.EqualTo(before));
    }

    [Test]
    public void A_full_submission_queue_is_flushed_and_no_operation_or_completion_is_lost()
    {
        // Two submission entries and four completion entries for a thousand operations: the submission queue fills
        // hundreds of times and the completion queue overflows into the kernel's backlog.
        using IoUringBackend backend = IoUringBackend.Create(2, 4);
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
        using IoUringBackend backend = IoUringBackend.Create(8);
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
        using IoUringBackend backend = IoUringBackend.Create(8);
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
        using IoUringBackend backend = IoUringBackend.Create(8);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Span<IoCompletion> completions = stackalloc IoCompletion[2];

        Assert.That(backend.Poll(TimeSpan.FromMilliseconds(20), completions), Is.Zero);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(19)));
    }

    [Test]
    public void Every_combination_of_optional_setup_flags_gives_a_working_ring()
    {
        uint[] optional =
        [
            IoUring.IORING_SETUP_SINGLE_ISSUER, IoUring.IORING_SETUP_DEFER_TASKRUN, IoUring.IORING_SETUP_COOP_TASKRUN,
            IoUring.IORING_SETUP_TASKRUN_FLAG, IoUring.IORING_SETUP_SUBMIT_ALL,
        ];
        Span<IoCompletion> completions = stackalloc IoCompletion[4];
        for (int mask = 0; mask < 1 << optional.Length; mask++)
        {
            uint wanted = 0;
            for (int bit = 0; bit < optional.Length; bit++)
            {
                wanted |= (mask & (1 << bit)) != 0 ? optional[bit] : 0;
            }

            // Combinations the kernel refuses (DEFER_TASKRUN without SINGLE_ISSUER, TASKRUN_FLAG alone) are
            // narrowed flag by flag until it accepts; the ring that results never has a flag that was not asked for.
            using var ring = IoUringRing.Create(8, 16, wanted);
            Assert.That(ring.SetupFlags & ~(wanted | IoUring.IORING_SETUP_CQSIZE), Is.Zero, $"flags 0x{wanted:X}");
            ring.NextSqe()->opcode = IoUring.IORING_OP_NOP;
            ring.Wait(1_000_000_000);
            Assert.That(ring.TryReap(out IoCompletion completion), Is.True, $"flags 0x{wanted:X}: no completion");
            Assert.That(completion.Result, Is.Zero);
        }
    }

    [Test]
    public void The_ring_is_set_up_with_the_flags_the_kernel_accepts()
    {
        using IoUringBackend backend = IoUringBackend.Create(8);
        IoUringCapabilities capabilities = IoUringCapabilities.Probe();

        // Every optional flag the probe saw accepted on its own is kept by the backend's combined setup.
        foreach ((string name, uint flag) in new[]
        {
            ("IORING_SETUP_SINGLE_ISSUER", IoUring.IORING_SETUP_SINGLE_ISSUER),
            ("IORING_SETUP_DEFER_TASKRUN", IoUring.IORING_SETUP_DEFER_TASKRUN),
            ("IORING_SETUP_COOP_TASKRUN", IoUring.IORING_SETUP_COOP_TASKRUN),
            ("IORING_SETUP_SUBMIT_ALL", IoUring.IORING_SETUP_SUBMIT_ALL),
        })
        {
            Assert.That((backend.SetupFlags & flag) != 0, Is.EqualTo(capabilities.AcceptedSetupFlags.Contains(name)), name);
        }
    }
}
