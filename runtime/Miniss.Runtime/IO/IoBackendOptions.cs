using System;

namespace Miniss.IO;

/// <summary>
/// The sizes of a backend made by <see cref="IoBackend.Create"/> for use without a runtime (a runtime sizes its
/// shards' backends from <see cref="RuntimeOptions"/>). Read once, when the backend is created.
/// </summary>
public sealed class IoBackendOptions
{
    /// <summary>Submission queue entries of an io_uring ring (the kernel rounds up to a power of two), or the readiness
    /// events one wait takes; what <see cref="IoBackend.MaxBatchSize"/> reports. Between 1 and 32768; default 256.</summary>
    public int Entries { get; set; } = 256;

    /// <summary>Completion queue entries of an io_uring ring: how many completions may wait to be polled before the
    /// kernel keeps the rest in its overflow list. At least <see cref="Entries"/>; default (<see langword="null"/>)
    /// twice <see cref="Entries"/>. Readiness backends ignore it.</summary>
    public int? CompletionEntries { get; set; }

    /// <summary>The most threads a readiness backend runs file operations on (regular files are never "not ready":
    /// <c>pread</c>, <c>fsync</c>, <c>openat</c> block). The threads start when work first waits and end when the
    /// backend is disposed. Default 2; io_uring ignores it.</summary>
    public int BlockingThreads { get; set; } = 2;

    internal int CompletionEntriesOrDefault => CompletionEntries ?? Entries * 2;

    /// <summary>Submission-queue polling for an io_uring ring (set by a runtime from its <see cref="RuntimeOptions"/>);
    /// default off. Readiness backends ignore it.</summary>
    internal Uring.SubmissionPollingRequest SubmissionPolling { get; set; }

    /// <exception cref="ArgumentOutOfRangeException">A size is out of its range; the message names it.</exception>
    internal void Validate()
    {
        if (Entries is < 1 or > 32768)
        {
            throw new ArgumentOutOfRangeException(nameof(Entries), Entries, "IoBackendOptions.Entries must be between 1 and 32768");
        }

        if (CompletionEntries is { } completions && (completions < Entries || completions > 65536))
        {
            throw new ArgumentOutOfRangeException(nameof(CompletionEntries), completions,
                $"IoBackendOptions.CompletionEntries must be between Entries ({Entries}) and 65536, or null for twice Entries");
        }

        if (BlockingThreads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockingThreads), BlockingThreads, "IoBackendOptions.BlockingThreads must be at least 1");
        }
    }
}
