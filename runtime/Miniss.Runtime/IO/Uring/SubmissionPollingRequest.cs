using System.Collections.Generic;
using Miniss.Bindings.Linux;
using Miniss.Internal;

namespace Miniss.IO.Uring;

/// <summary>What a ring is set up with for submission-queue polling: the mode, the polling thread's idle time before it
/// sleeps and its CPU, and a refusal already known before any ring is set up (a CPU outside the process's set).</summary>
/// <param name="Mode">Off, Auto or Required.</param>
/// <param name="IdleMilliseconds">How long the polling thread polls an empty queue before it sleeps (<c>sq_thread_idle</c>).</param>
/// <param name="Cpu">The CPU the polling thread is bound to (<c>IORING_SETUP_SQ_AFF</c>), or <see langword="null"/>.</param>
/// <param name="Refusal">Why polling cannot be had, known in advance; <see langword="null"/> to ask the kernel.</param>
internal readonly record struct SubmissionPollingRequest(SubmissionQueuePolling Mode, uint IdleMilliseconds, int? Cpu, string? Refusal = null)
{
    /// <summary>Why a polling thread cannot run on <paramref name="cpu"/> given the CPUs this process may use, or
    /// <see langword="null"/> when it can (or no CPU was named).</summary>
    internal static string? CheckCpu(int? cpu, IReadOnlyList<int> allowed)
    {
        if (cpu is not { } wanted)
        {
            return null;
        }

        foreach (int allowedCpu in allowed)
        {
            if (allowedCpu == wanted)
            {
                return null;
            }
        }

        return $"RuntimeOptions.SubmissionPollingCpu is {wanted} but this process may run only on CPUs {string.Join(",", allowed)} " +
            "(its affinity mask): choose one of those, or null to let the kernel place the polling thread";
    }

    /// <summary>The refusal when the kernel's polling thread takes only registered files.</summary>
    internal const string ExplainOnlyFixedFiles =
        "the kernel is too old for submission-queue polling with ordinary descriptors (IORING_FEAT_SQPOLL_NONFIXED needs Linux 5.11): " +
        "run on a newer kernel or set RuntimeOptions.SubmissionQueuePolling to Off";

    /// <summary>Why the kernel refused a ring with <c>IORING_SETUP_SQPOLL</c>, from the errno of <c>io_uring_setup</c>.</summary>
    internal static string Explain(int errno, SubmissionPollingRequest request) => errno switch
    {
        Errno.EPERM =>
            "io_uring_setup refused IORING_SETUP_SQPOLL with EPERM: before Linux 5.11 a polling thread needs CAP_SYS_ADMIN, " +
            "and a seccomp profile or kernel.io_uring_disabled may refuse it: grant the capability, run on a newer kernel, " +
            "or set RuntimeOptions.SubmissionQueuePolling to Off",
        Errno.EINVAL when request.Cpu is { } cpu =>
            $"io_uring_setup refused IORING_SETUP_SQPOLL on CPU {cpu} with EINVAL: that CPU is offline or outside this process's cpuset, " +
            "or the kernel is too old for submission-queue polling: choose another RuntimeOptions.SubmissionPollingCpu or leave it null",
        Errno.EINVAL =>
            "io_uring_setup refused IORING_SETUP_SQPOLL with EINVAL: the kernel is too old for submission-queue polling " +
            "(Linux 5.11 or later is needed): set RuntimeOptions.SubmissionQueuePolling to Off",
        Errno.ENOMEM =>
            "io_uring_setup refused IORING_SETUP_SQPOLL with ENOMEM: the locked-memory limit (RLIMIT_MEMLOCK) is too small for the rings, " +
            "or the polling thread could not be created: raise the limit or set RuntimeOptions.SubmissionQueuePolling to Off",
        _ => $"io_uring_setup refused IORING_SETUP_SQPOLL: {ErrnoNames.Describe(errno)}: set RuntimeOptions.SubmissionQueuePolling to Off",
    };
}
