using System.Collections.Generic;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.FaultInjection;
using Miniss.IO.Uring;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Faults;

/// <summary>The io_uring ring itself when the kernel's completion queue overflows and <c>io_uring_enter</c> answers
/// EBUSY, EAGAIN or EINTR: every completion arrives, once, in order, and nothing throws.</summary>
[Platform("Linux")]
[NonParallelizable]
public sealed class RingOverflowTests
{
    [SetUp]
    public void RequireIoUring()
    {
        if (IoBackendSelection.ProbeIoUring(new RuntimeOptions()) is { } reason)
        {
            Assert.Ignore($"io_uring is not available here: {reason}");
        }
    }

    [Test]
    public unsafe void A_completion_queue_that_overflows_loses_no_completion()
    {
        using IoUringBackend ring = IoUringBackend.Create(4, 4, 0);
        Assert.That(SubmitNopsAndReapAll(ring, 200), Is.EqualTo(Sequence(200)));
    }

    [Test]
    public unsafe void Busy_and_interrupted_enters_lose_no_completion()
    {
        var schedule = new FaultSchedule(77, 0.4, FaultKinds.EnterBusy | FaultKinds.EnterInterrupted | FaultKinds.SubmissionQueueFull);
        using IoBackend engine = FaultInjectingBackend.Decorate(IoUringBackend.Create(4, 4, 0), schedule, 0);
        var ring = (IoUringBackend)engine.Underlying;
        Assert.That(SubmitNopsAndReapAll(ring, 200), Is.EqualTo(Sequence(200)));
        Assert.That(schedule.Injected(FaultKinds.EnterBusy) + schedule.Injected(FaultKinds.EnterInterrupted), Is.GreaterThan(0));
    }

    /// <summary>Writes <paramref name="count"/> no-ops (user data 1..count) into a ring far smaller, reaping nothing
    /// until all are written, then reaps until every completion is in (bounded by a number of rounds).</summary>
    private static unsafe List<ulong> SubmitNopsAndReapAll(IoUringBackend ring, int count)
    {
        for (int i = 1; i <= count; i++)
        {
            io_uring_sqe* sqe = ring.NextSqe();
            sqe->opcode = IoUring.IORING_OP_NOP;
            sqe->user_data = (ulong)i;
        }

        var seen = new List<ulong>();
        for (int round = 0; round < 100_000 && seen.Count < count; round++)
        {
            ring.Submit();
            while (ring.TryReap(out IoCompletion completion))
            {
                seen.Add(completion.UserData);
            }

            if (seen.Count < count && !ring.HasCompletions && !ring.KernelHasWork && ring.PendingSubmissions == 0)
            {
                ring.Wait(1_000_000);
            }
        }

        return seen;
    }

    private static List<ulong> Sequence(int count)
    {
        var expected = new List<ulong>(count);
        for (int i = 1; i <= count; i++)
        {
            expected.Add((ulong)i);
        }

        return expected;
    }
}
