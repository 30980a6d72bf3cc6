using System;
using System.Buffers;

namespace Miniss.Net;

/// <summary>Buffers and flow control of a <see cref="ConnectionPipe"/>. Every property has a documented default.</summary>
public sealed class ConnectionPipeOptions
{
    internal static readonly ConnectionPipeOptions Default = new();

    /// <summary>Where the pipes take their segments from. Default: <see cref="MemoryPool{T}.Shared"/>.</summary>
    public MemoryPool<byte>? Pool { get; init; }

    /// <summary>The smallest segment the pipe takes from <see cref="Pool"/> for received bytes, in bytes. A receive
    /// goes into the free tail of the current segment while at least an eighth of this size is left there, and into a
    /// new segment otherwise, so that received bytes fill their segments: the input's memory stays within about 8/7 of
    /// its bytes (see <see cref="MaxBufferedInput"/>) however small the peer's sends. Default: 4096.</summary>
    public int MinimumReceiveSize { get; init; } = 4096;

    /// <summary>Received bytes the application has not consumed (<c>PipeReader.AdvanceTo</c>'s consumed position, not
    /// its examined one) at which the connection stops receiving: back pressure, the peer's sends then wait in the
    /// kernel. Receiving resumes once the application has consumed down to half of it, or has examined all it holds.
    /// The pipe never holds more than this many received bytes. An application that examines all of a full input
    /// without consuming any gets an <see cref="System.IO.IOException"/> from its next read instead of waiting for
    /// ever: size the bound above the largest message the protocol parser accepts. Default: 1 MiB.</summary>
    public long MaxBufferedInput { get; init; } = 1 << 20;

    /// <summary>Bytes written by the application and not yet sent at which its <c>FlushAsync</c> waits. Default: 1 MiB.</summary>
    public long MaxBufferedOutput { get; init; } = 1 << 20;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MinimumReceiveSize, nameof(MinimumReceiveSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBufferedInput, nameof(MaxBufferedInput));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBufferedOutput, nameof(MaxBufferedOutput));
    }
}
