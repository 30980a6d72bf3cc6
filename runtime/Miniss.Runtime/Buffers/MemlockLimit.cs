using Miniss.Bindings.Linux;
using Miniss.Internal;
using LinuxFiles = Miniss.Bindings.Linux.Files;

namespace Miniss.Buffers;

/// <summary>
/// <c>RLIMIT_MEMLOCK</c>, the cap on memory a process may pin, and why a registration with io_uring ran into it.
/// The kernel counts fixed buffers against it (per user, together with <c>mlock</c>) unless the process has
/// <c>CAP_IPC_LOCK</c>, and answers ENOMEM when they do not fit.
/// </summary>
internal static unsafe class MemlockLimit
{
    /// <summary>The soft limit of the calling process in bytes (<see cref="LinuxFiles.RLIM_INFINITY"/>: no limit).</summary>
    public static ulong Current()
    {
        rlimit limit;
        return Libc.getrlimit(LinuxFiles.RLIMIT_MEMLOCK, &limit) == 0 ? limit.rlim_cur : LinuxFiles.RLIM_INFINITY;
    }

    /// <summary>Whether <paramref name="bytes"/> of pinned memory fit under <paramref name="limit"/>, ignoring what
    /// is pinned already.</summary>
    public static bool Allows(long bytes, ulong limit) => limit == LinuxFiles.RLIM_INFINITY || (ulong)bytes <= limit;

    /// <summary>
    /// Why <c>io_uring_register(IORING_REGISTER_BUFFERS)</c> of a region of <paramref name="regionBytes"/> failed with
    /// <paramref name="errno"/>, given the limit read before the call, and what to do about it.
    /// </summary>
    public static string ExplainRegistrationFailure(int errno, long regionBytes, ulong limit)
    {
        if (errno is Errno.ENOMEM or Errno.EPERM)
        {
            string cause = Allows(regionBytes, limit)
                ? $"RLIMIT_MEMLOCK ({Describe(limit)}) would hold it, but memory this user has already locked (mlock, " +
                  "fixed buffers of other rings) counts against the same limit"
                : $"RLIMIT_MEMLOCK allows this process to lock only {Describe(limit)}";
            long kibibytes = (regionBytes + 1023) / 1024;
            return $"Registering the buffer pool's {Describe((ulong)regionBytes)} with io_uring pins it in memory, and {cause} " +
                $"({ErrnoNames.Of(errno)}). Raise the limit to at least {kibibytes} KiB, more with other pinned memory: " +
                $"`ulimit -l {kibibytes}` (or `ulimit -l unlimited`) in the shell that starts the process, " +
                $"LimitMEMLOCK={kibibytes}K (or infinity) in its systemd unit, `--ulimit memlock=-1` for docker run, or a memlock " +
                "line in /etc/security/limits.conf; or grant the process CAP_IPC_LOCK. Until then the pool works, but I/O " +
                "cannot use its buffers as fixed buffers.";
        }

        return errno switch
        {
            Errno.EEXIST => "The ring is single-issuer: io_uring_register must be called on the thread that created it " +
                "(register the pool from the ring's shard).",
            Errno.EBUSY => "The ring already has fixed buffers registered; a ring holds one table: unregister it first.",
            _ => $"io_uring_register(IORING_REGISTER_BUFFERS) failed: {ErrnoNames.Describe(errno)}.",
        };
    }

    /// <summary>"64 MiB", "512 KiB", "1000 bytes", "no limit".</summary>
    public static string Describe(ulong bytes) => bytes switch
    {
        LinuxFiles.RLIM_INFINITY => "no limit",
        _ when bytes != 0 && bytes % (1 << 20) == 0 => $"{bytes >> 20} MiB",
        _ when bytes != 0 && bytes % 1024 == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} bytes",
    };
}
