using System.Collections.Generic;

namespace Miniss.Cli.Reports;

/// <summary>
/// The JSON document of <c>miniss info --json</c>, described by docs/schemas/miniss-info.schema.json. A change that
/// removes or renames a field, or changes its meaning, raises <see cref="SchemaVersion"/>; adding a field does not.
/// </summary>
internal sealed record InfoReport(
    string Schema,
    RunDescription<InfoRunOptions> Run,
    IReadOnlyList<int> AvailableCpus,
    InfoLimits Limits,
    InfoBufferPool BufferPool,
    InfoBackend Backend,
    InfoIoUring IoUring)
{
    /// <summary>The value of <c>schema</c>: the document's kind and version.</summary>
    public const string SchemaVersion = "miniss-info/1";
}

/// <summary><c>miniss info</c> takes no options besides <c>--json</c>.</summary>
internal sealed record InfoRunOptions;

/// <summary>The process limits Miniss depends on; <see langword="null"/> means unlimited (or, off Linux, unknown).</summary>
/// <param name="MemlockBytes">RLIMIT_MEMLOCK's soft limit, in bytes.</param>
/// <param name="Descriptors">RLIMIT_NOFILE's soft limit, already raised to the hard one.</param>
internal sealed record InfoLimits(long? MemlockBytes, long? Descriptors);

/// <summary>Each shard's buffer pool, with the default options.</summary>
internal sealed record InfoBufferPool(IReadOnlyList<int> SizeClassesBytes, int AlignmentBytes, long MaxMemoryBytes);

/// <summary>The backend the runtime would choose with the default options.</summary>
/// <param name="Name"><c>io_uring</c>, <c>epoll</c> or <c>kqueue</c>; <see langword="null"/> when none can run.</param>
/// <param name="Source">What chose it (MINISS_BACKEND, the probe); the reason none can run when <paramref name="Name"/> is null.</param>
/// <param name="Rejected">The backends tried before it, and why each was refused.</param>
internal sealed record InfoBackend(string? Name, string Source, IReadOnlyList<InfoRejectedBackend> Rejected);

/// <summary>A backend the selection refused.</summary>
internal sealed record InfoRejectedBackend(string Name, string Reason, int Errno);

/// <summary>What this kernel's io_uring offers.</summary>
/// <param name="UnavailableReason">Why no ring can be set up; <see langword="null"/> when one can.</param>
/// <param name="LastOperation">The highest operation code the kernel reports; <see langword="null"/> when unavailable.</param>
internal sealed record InfoIoUring(
    bool Available,
    string? UnavailableReason,
    int? LastOperation,
    IReadOnlyList<string> Features,
    IReadOnlyList<string> SetupFlags,
    IReadOnlyList<string> Operations);
