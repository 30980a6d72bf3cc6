using System;
using System.Collections.Generic;
using System.Reflection;
using Miniss.Bindings.Linux;
using Miniss.Internal.Linux;

namespace Miniss;

/// <summary>
/// What the running kernel offers through io_uring, found by setting up real rings: the features it reports, the
/// operations it supports and the setup flags it accepts, or why io_uring cannot be used at all.
/// </summary>
public sealed class IoUringCapabilities
{
    private IoUringCapabilities(string? unavailableReason, int errno, uint features, IReadOnlyList<string> featureNames,
        IReadOnlyList<string> supportedOperations, int lastOperation, IReadOnlyList<string> acceptedSetupFlags, bool registeredRingDescriptor)
    {
        RegisteredRingDescriptor = registeredRingDescriptor;
        UnavailableReason = unavailableReason;
        Errno = errno;
        Features = features;
        FeatureNames = featureNames;
        SupportedOperations = supportedOperations;
        LastOperation = lastOperation;
        AcceptedSetupFlags = acceptedSetupFlags;
    }

    /// <summary>Whether a ring could be set up in this process.</summary>
    public bool IsAvailable => UnavailableReason is null;

    /// <summary>Why io_uring cannot be used here (names the errno and its usual cause), or <see langword="null"/>.</summary>
    public string? UnavailableReason { get; }

    /// <summary>The errno of the failed <c>io_uring_setup</c>, or 0.</summary>
    public int Errno { get; }

    /// <summary>The <c>IORING_FEAT_*</c> bits the kernel reported.</summary>
    public uint Features { get; }

    /// <summary>The names of the <c>IORING_FEAT_*</c> bits the kernel reported.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The <c>IORING_OP_*</c> operations the kernel supports, by name (<c>opcode N</c> for those newer than the bindings).</summary>
    public IReadOnlyList<string> SupportedOperations { get; }

    /// <summary>The highest operation code the kernel knows (<c>last_op</c> of <c>IORING_REGISTER_PROBE</c>).</summary>
    public int LastOperation { get; }

    /// <summary>The optional <c>IORING_SETUP_*</c> flags Miniss uses that the kernel accepted (<c>IORING_SETUP_SQPOLL</c>
    /// for <see cref="RuntimeOptions.SubmissionQueuePolling"/>).</summary>
    public IReadOnlyList<string> AcceptedSetupFlags { get; }

    /// <summary>Whether the kernel lets a thread register a ring's descriptor (<c>IORING_REGISTER_RING_FDS</c>, Linux
    /// 5.18): when it does, every shard enters its ring by the registered index (<c>IORING_ENTER_REGISTERED_RING</c>),
    /// which spares a file-table lookup per <c>io_uring_enter</c>.</summary>
    public bool RegisteredRingDescriptor { get; }

    /// <summary>Probes the kernel. Sets up and closes a few small rings; safe to call on any OS (reports unavailable off Linux).</summary>
    public static unsafe IoUringCapabilities Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return Unavailable("io_uring exists only on Linux", 0);
        }

        io_uring_params parameters = default;
        int fd = IoUringSyscalls.Setup(4, &parameters);
        if (fd < 0)
        {
            return Unavailable(Explain(-fd), -fd);
        }

        try
        {
            var supported = new List<string>();
            bool[]? opcodes = SupportedOpcodes(fd, out int last, out _);
            if (opcodes is not null)
            {
                Dictionary<long, string> names = Names("IORING_OP_");
                for (int op = 0; op < opcodes.Length; op++)
                {
                    if (opcodes[op])
                    {
                        // Operations newer than the bindings' ABI have no name here yet: report their number.
                        supported.Add(names.TryGetValue(op, out string? name) ? name : $"opcode {op}");
                    }
                }
            }

            var features = new List<string>();
            foreach ((long bit, string name) in Names("IORING_FEAT_"))
            {
                if ((parameters.features & (ulong)bit) != 0)
                {
                    features.Add(name);
                }
            }

            var accepted = new List<string>();
            foreach ((string name, uint flags) in new[]
            {
                ("IORING_SETUP_SINGLE_ISSUER", IoUring.IORING_SETUP_SINGLE_ISSUER),
                ("IORING_SETUP_DEFER_TASKRUN", IoUring.IORING_SETUP_SINGLE_ISSUER | IoUring.IORING_SETUP_DEFER_TASKRUN),
                ("IORING_SETUP_COOP_TASKRUN", IoUring.IORING_SETUP_COOP_TASKRUN),
                ("IORING_SETUP_TASKRUN_FLAG", IoUring.IORING_SETUP_COOP_TASKRUN | IoUring.IORING_SETUP_TASKRUN_FLAG),
                ("IORING_SETUP_SUBMIT_ALL", IoUring.IORING_SETUP_SUBMIT_ALL),
                ("IORING_SETUP_CQSIZE", IoUring.IORING_SETUP_CQSIZE),
                ("IORING_SETUP_SQPOLL", IoUring.IORING_SETUP_SQPOLL),
            })
            {
                io_uring_params trial = default;
                trial.flags = flags;
                trial.cq_entries = 8;
                int trialFd = IoUringSyscalls.Setup(4, &trial);
                if (trialFd >= 0)
                {
                    accepted.Add(name);
                    _ = Libc.close(trialFd);
                }
            }

            // Registered and released at once: the registration belongs to the calling thread's io_uring context.
            io_uring_rsrc_update update = default;
            update.offset = uint.MaxValue;
            update.data = (ulong)fd;
            bool registered = IoUringSyscalls.Register(fd, IoUring.IORING_REGISTER_RING_FDS, &update, 1) == 1;
            if (registered)
            {
                _ = IoUringSyscalls.Register(fd, IoUring.IORING_UNREGISTER_RING_FDS, &update, 1);
            }

            return new IoUringCapabilities(null, 0, parameters.features, features, supported, last, accepted, registered);
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }

    /// <summary>Asks the ring <paramref name="ringFd"/> which operations the kernel supports
    /// (<c>IORING_REGISTER_PROBE</c>): one flag per operation code up to the highest the kernel reports, or
    /// <see langword="null"/> with the <paramref name="errno"/> when the kernel refuses the probe.</summary>
    internal static unsafe bool[]? SupportedOpcodes(int ringFd, out int lastOperation, out int errno)
    {
        const int probeOperations = 256;
        int size = sizeof(io_uring_probe) + probeOperations * sizeof(io_uring_probe_op);
        byte* buffer = stackalloc byte[size];
        new Span<byte>(buffer, size).Clear();
        var probe = (io_uring_probe*)buffer;
        int result = IoUringSyscalls.Register(ringFd, IoUring.IORING_REGISTER_PROBE, probe, probeOperations);
        if (result < 0)
        {
            lastOperation = -1;
            errno = -result;
            return null;
        }

        lastOperation = probe->last_op;
        errno = 0;
        io_uring_probe_op* operations = io_uring_probe.ops(probe);
        var supported = new bool[probe->ops_len];
        for (int i = 0; i < probe->ops_len; i++)
        {
            supported[i] = (operations[i].flags & IoUring.IO_URING_OP_SUPPORTED) != 0;
        }

        return supported;
    }

    /// <summary>Names the errno of a failed <c>io_uring_setup</c> and its usual cause.</summary>
    internal static string Explain(int errno) => errno switch
    {
        Bindings.Linux.Errno.EPERM => "io_uring_setup failed with EPERM: refused by a seccomp profile (Docker's and containerd's default) or by kernel.io_uring_disabled",
        Bindings.Linux.Errno.ENOSYS => "io_uring_setup failed with ENOSYS: the kernel has no io_uring (too old, or hidden by a sandbox)",
        Bindings.Linux.Errno.ENOMEM => "io_uring_setup failed with ENOMEM: the locked-memory limit (RLIMIT_MEMLOCK) is too small for the rings",
        _ => $"io_uring_setup failed with errno {errno}",
    };

    private static IoUringCapabilities Unavailable(string reason, int errno) => new(reason, errno, 0, [], [], -1, [], false);

    private static Dictionary<long, string> Names(string prefix)
    {
        // Only for this report: the generated constant classes are the one list of names.
        var names = new Dictionary<long, string>();
        foreach (FieldInfo field in typeof(IoUring).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (field.IsLiteral && field.Name.StartsWith(prefix, StringComparison.Ordinal) && !field.Name.EndsWith("_LAST", StringComparison.Ordinal))
            {
                long value = Convert.ToInt64(field.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture);
                names.TryAdd(value, field.Name);
            }
        }

        return names;
    }
}
