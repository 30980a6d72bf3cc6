using System;
using System.Collections.Generic;
using System.Linq;
using Miniss.Bindings.Linux;
using Miniss.IO.Readiness;
using Miniss.IO.Uring;

namespace Miniss.IO;

/// <summary>Which system interface a runtime's I/O goes through.</summary>
public enum IoBackendKind
{
    /// <summary>The best one this process can use: io_uring, else the platform's readiness backend (epoll on Linux,
    /// kqueue on macOS). The environment variable <c>MINISS_BACKEND</c> (<c>io_uring</c>, <c>epoll</c>, <c>kqueue</c>)
    /// forces a choice when the options do not.</summary>
    Auto,

    /// <summary>Linux io_uring: operations and completions through shared rings, one system call per batch.</summary>
    IoUring,

    /// <summary>Linux epoll: non-blocking sockets driven by readiness, file operations on a small helper pool.</summary>
    Epoll,

    /// <summary>macOS kqueue: the epoll backend's design over kqueue.</summary>
    Kqueue,
}

/// <summary>A backend the runtime did not take, and why.</summary>
/// <param name="Name">The backend's name (<c>io_uring</c>...).</param>
/// <param name="Reason">Why it cannot be used here, naming the errno and its usual cause.</param>
/// <param name="Errno">The errno that decided it, or 0.</param>
public sealed record RejectedBackend(string Name, string Reason, int Errno);

/// <summary>
/// The backend a runtime chose at start, how (probed, or forced by the options or <c>MINISS_BACKEND</c>), and why
/// each better backend was rejected. <see cref="MinissRuntime.Backend"/> exposes it; the runtime logs it once.
/// </summary>
public sealed class IoBackendSelection
{
    /// <summary>The environment variable that forces a backend when <see cref="RuntimeOptions.Backend"/> is <see cref="IoBackendKind.Auto"/>.</summary>
    public const string EnvironmentVariable = "MINISS_BACKEND";

    private IoBackendSelection(IoBackendKind kind, string source, IReadOnlyList<RejectedBackend> rejected)
    {
        Kind = kind;
        Source = source;
        Rejected = rejected;
    }

    // Why submission-queue polling cannot be had, known before any shard starts (its CPU is outside the process's set).
    private string? _pollingRefusal;

    /// <summary>The chosen backend.</summary>
    public IoBackendKind Kind { get; }

    /// <summary>Its name: <c>io_uring</c>, <c>epoll</c> or <c>kqueue</c>.</summary>
    public string Name => NameOf(Kind);

    /// <summary>How it was chosen: <c>probed</c>, <c>RuntimeOptions.Backend</c> or <c>MINISS_BACKEND</c>.</summary>
    public string Source { get; }

    /// <summary>The better backends that were tried and could not be used, best first.</summary>
    public IReadOnlyList<RejectedBackend> Rejected { get; }

    /// <summary>Whether the backend waits for readiness and runs operations itself (epoll, kqueue).</summary>
    public bool IsReadiness => Kind is IoBackendKind.Epoll or IoBackendKind.Kqueue;

    /// <summary>One line: the backend, how it was chosen, and why better ones were rejected.</summary>
    public override string ToString() => Rejected.Count == 0
        ? $"{Name} ({Source})"
        : $"{Name} ({Source}; {string.Join("; ", Rejected.Select(r => $"{r.Name} rejected: {r.Reason}"))})";

    /// <summary>The name Miniss uses for <paramref name="kind"/>.</summary>
    public static string NameOf(IoBackendKind kind) => kind switch
    {
        IoBackendKind.IoUring => "io_uring",
        IoBackendKind.Epoll => "epoll",
        IoBackendKind.Kqueue => "kqueue",
        _ => "auto",
    };

    /// <summary>Reads a backend name as <c>MINISS_BACKEND</c> and the command line spell it.</summary>
    /// <exception cref="ArgumentException">Not a backend name.</exception>
    public static IoBackendKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "io_uring" or "iouring" or "io-uring" => IoBackendKind.IoUring,
        "epoll" => IoBackendKind.Epoll,
        "kqueue" => IoBackendKind.Kqueue,
        "auto" or "" => IoBackendKind.Auto,
        _ => throw new ArgumentException($"'{name}' is not a Miniss backend: use io_uring, epoll, kqueue or auto", nameof(name)),
    };

    /// <summary>
    /// Chooses the backend a runtime started with <paramref name="options"/> would use, as <see cref="MinissRuntime.Start"/>
    /// does (without starting anything): a forced one (options, then <c>MINISS_BACKEND</c>) must work
    /// here or start fails with the reason; otherwise io_uring is probed (a real ring, the features and operations
    /// the runtime needs), then the platform's readiness backend.
    /// </summary>
    /// <exception cref="IoUringUnavailableException">io_uring was forced and cannot be used.</exception>
    /// <exception cref="PlatformNotSupportedException">A backend of another platform was forced, or none works here.</exception>
    /// <exception cref="ArgumentException"><c>MINISS_BACKEND</c> names no backend.</exception>
    /// <exception cref="NotSupportedException"><see cref="RuntimeOptions.SubmissionQueuePolling"/> is
    /// <see cref="SubmissionQueuePolling.Required"/> and the backend is not io_uring, or the poller's CPU is outside the
    /// CPUs this process may use.</exception>
    public static IoBackendSelection Select(RuntimeOptions? options = null)
    {
        options ??= new RuntimeOptions();
        IoBackendSelection selection = SelectKind(options);
        if (selection.Kind != IoBackendKind.IoUring && options.SubmissionQueuePolling == SubmissionQueuePolling.Required)
        {
            throw new NotSupportedException(
                $"Submission-queue polling was required (RuntimeOptions.SubmissionQueuePolling) but it exists only with io_uring, and the runtime would run on {selection}: " +
                "use the io_uring backend, or set SubmissionQueuePolling to Auto or Off.");
        }

        if (selection.Kind == IoBackendKind.IoUring && options.SubmissionQueuePolling != SubmissionQueuePolling.Off)
        {
            // Checked here, on the starting thread: a shard's own thread is already pinned to one CPU.
            selection._pollingRefusal = SubmissionPollingRequest.CheckCpu(options.SubmissionPollingCpu, Internal.Linux.ThreadAffinity.AllowedCpus());
            if (selection._pollingRefusal is { } refusal && options.SubmissionQueuePolling == SubmissionQueuePolling.Required)
            {
                throw new NotSupportedException($"Submission-queue polling was required (RuntimeOptions.SubmissionQueuePolling) but cannot be used: {refusal}.");
            }
        }

        return selection;
    }

    private static IoBackendSelection SelectKind(RuntimeOptions options)
    {
        IoBackendKind wanted = options.Backend;
        string source = "RuntimeOptions.Backend";
        if (wanted == IoBackendKind.Auto && Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } variable)
        {
            try
            {
                wanted = Parse(variable);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{EnvironmentVariable}={variable}: {e.Message}", nameof(options), e);
            }

            source = EnvironmentVariable;
        }

        switch (wanted)
        {
            case IoBackendKind.IoUring:
                if (ProbeIoUring(options) is { } refused)
                {
                    throw new IoUringUnavailableException($"io_uring was forced by {source} but cannot be used: {refused.Reason}", refused.Errno);
                }

                return new IoBackendSelection(wanted, source, []);
            case IoBackendKind.Epoll when !OperatingSystem.IsLinux():
                throw new PlatformNotSupportedException($"epoll was forced by {source} but exists only on Linux");
            case IoBackendKind.Kqueue when !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD():
                throw new PlatformNotSupportedException($"kqueue was forced by {source} but exists only on macOS and the BSDs");
            case IoBackendKind.Epoll or IoBackendKind.Kqueue:
                return new IoBackendSelection(wanted, source, []);
        }

        var rejected = new List<RejectedBackend>();
        if (ProbeIoUring(options) is { } reason)
        {
            rejected.Add(reason);
        }
        else
        {
            return new IoBackendSelection(IoBackendKind.IoUring, "probed", rejected);
        }

        if (OperatingSystem.IsLinux())
        {
            return new IoBackendSelection(IoBackendKind.Epoll, "probed", rejected);
        }

        if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            return new IoBackendSelection(IoBackendKind.Kqueue, "probed", rejected);
        }

        throw new PlatformNotSupportedException("Miniss runs on Linux (io_uring or epoll) and macOS (kqueue)");
    }

    /// <summary>Sets up a real ring the way a shard will and checks what the runtime needs; <see langword="null"/>
    /// when io_uring is usable, else why not.</summary>
    internal static unsafe RejectedBackend? ProbeIoUring(RuntimeOptions options)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new RejectedBackend("io_uring", "io_uring exists only on Linux", 0);
        }

        IoUringBackend ring;
        try
        {
            uint entries = (uint)options.RingEntries;
            ring = IoUringBackend.Create(entries, (uint)(options.CompletionEntries ?? options.RingEntries * 4), IoUringBackend.DefaultFlags);
        }
        catch (IoUringUnavailableException e)
        {
            return new RejectedBackend("io_uring", e.Message, e.Errno);
        }

        using (ring)
        {
            // Sleeping with a timeout needs IORING_ENTER_EXT_ARG (Linux 5.11).
            if ((ring.Features & IoUring.IORING_FEAT_EXT_ARG) == 0)
            {
                return new RejectedBackend("io_uring", "the kernel's io_uring lacks IORING_FEAT_EXT_ARG (Linux 5.11 or later is needed)", Errno.ENOSYS);
            }

            bool[]? supported = IoUringCapabilities.SupportedOpcodes(ring.Fd, out _, out int errno);
            if (supported is null)
            {
                return new RejectedBackend("io_uring", $"IORING_REGISTER_PROBE failed: {Internal.ErrnoNames.Describe(errno)}", errno);
            }

            // Every opcode of the operation catalog (generated from it), the runtime's own operations included.
            var missing = IoOperations.Opcodes
                .Where(r => r.Opcode != IoUring.IORING_OP_MSG_RING) // optional: probed by the shard that would use it
                .Where(r => r.Opcode >= supported.Length || !supported[r.Opcode])
                .Select(r => r.Name)
                .ToList();
            if (missing.Count > 0)
            {
                return new RejectedBackend("io_uring", $"the kernel's io_uring lacks {string.Join(", ", missing)} (Linux 5.11 or later is needed)", Errno.ENOSYS);
            }

            // One ring fitting says little: every shard sets up its own, and without CAP_IPC_LOCK the kernel charges
            // each one's pages to RLIMIT_MEMLOCK.
            if (MemlockShortfall(options, ring.LockedBytes) is { } shortfall)
            {
                return shortfall;
            }
        }

        return null;
    }

    /// <summary>Why the rings of every shard a runtime started with <paramref name="options"/> would not fit in
    /// RLIMIT_MEMLOCK, or <see langword="null"/> when they fit (or the limit does not apply to this process).</summary>
    /// <param name="options">The runtime's options: how many shards, and so how many rings.</param>
    /// <param name="bytesPerRing">What one ring with the runtime's entries and flags charges, in bytes.</param>
    internal static RejectedBackend? MemlockShortfall(RuntimeOptions options, long bytesPerRing)
    {
        ulong limit = Buffers.MemlockLimit.Current();
        if (limit == Files.RLIM_INFINITY || HasIpcLock())
        {
            return null;
        }

        int shards = options.ShardCount ?? (options.Cpus is { Count: > 0 } cpus ? cpus.Count : Internal.Linux.ThreadAffinity.AllowedCpus().Count);
        long needed = bytesPerRing * shards;
        if ((ulong)needed <= limit)
        {
            return null;
        }

        long kib = (needed + 1023) / 1024;
        return new RejectedBackend("io_uring",
            $"the rings of {shards} shards need {kib} KiB of locked memory ({shards} x {bytesPerRing / 1024} KiB for {options.RingEntries} entries each) " +
            $"but RLIMIT_MEMLOCK allows {limit / 1024} KiB and the process lacks CAP_IPC_LOCK: raise the limit (ulimit -l {kib}, " +
            "LimitMEMLOCK= in a systemd unit, --ulimit memlock= for docker run), or start fewer shards or smaller rings (RuntimeOptions.RingEntries)",
            Errno.ENOMEM);
    }

    /// <summary>Whether this process holds CAP_IPC_LOCK (locked memory unlimited by RLIMIT_MEMLOCK): bit 14 of
    /// <c>CapEff</c> in <c>/proc/self/status</c>; <see langword="false"/> when that cannot be read.</summary>
    private static bool HasIpcLock()
    {
        const int capIpcLock = 14;
        try
        {
            foreach (string line in System.IO.File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                {
                    return ulong.TryParse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out ulong mask)
                        && (mask & (1UL << capIpcLock)) != 0;
                }
            }
        }
        catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException)
        {
            // No procfs: assume the limit applies, the cautious answer.
        }

        return false;
    }

    /// <summary>
    /// The readiness backend to start on instead, when this selection probed io_uring and a shard's ring could not be
    /// set up after all (memory other processes of the same user already lock counts against RLIMIT_MEMLOCK too, and
    /// the kernel frees a closed ring's memory a little later); <see langword="null"/> when the backend was forced or
    /// the failure is not one a readiness backend avoids (ENOMEM, EPERM, ENOSYS).
    /// </summary>
    internal IoBackendSelection? FallBackAfter(IoUringUnavailableException failure)
    {
        if (Kind != IoBackendKind.IoUring || Source != "probed" || failure.Errno is not (Errno.ENOMEM or Errno.EPERM or Errno.ENOSYS)
            || !(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()))
        {
            return null;
        }

        var rejected = new List<RejectedBackend>(Rejected) { new("io_uring", $"a shard's ring could not be set up at start: {failure.Message}", failure.Errno) };
        return new IoBackendSelection(OperatingSystem.IsLinux() ? IoBackendKind.Epoll : IoBackendKind.Kqueue, "probed", rejected);
    }

    /// <summary>The submission-queue polling a shard's ring is set up with, from <paramref name="options"/>.</summary>
    internal SubmissionPollingRequest PollingFor(RuntimeOptions options) => new(
        options.SubmissionQueuePolling,
        (uint)options.SubmissionPollingIdle.TotalMilliseconds,
        options.SubmissionPollingCpu,
        _pollingRefusal);

    /// <summary>Creates a shard's backend of this kind, on the shard's thread; a readiness backend runs file operations
    /// on the runtime's <paramref name="pool"/>.</summary>
    internal IoBackend CreateBackend(RuntimeOptions options, BlockingIoPool? pool) => Kind == IoBackendKind.Auto
        ? throw new InvalidOperationException("no backend was chosen")
        : IoBackend.CreateCore(Kind, new IoBackendOptions
        {
            Entries = options.RingEntries,
            CompletionEntries = options.CompletionEntries ?? options.RingEntries * 4,
            SubmissionPolling = PollingFor(options),
        }, pool);
}
