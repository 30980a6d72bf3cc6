using System;
using System.Threading;
using Miniss.Net;

namespace Miniss.Samples.Http;

/// <summary>The limits <see cref="HelloServer"/> puts on each connection, so that one client cannot take more than
/// its share of a shard. Every property has a production default.</summary>
public sealed class HelloServerOptions
{
    private ConnectionPipeOptions? _pipe;

    /// <summary>The defaults.</summary>
    public static HelloServerOptions Default { get; } = new();

    /// <summary>
    /// The largest request head accepted, in bytes: request line, headers and the blank line that ends them, line ends
    /// included. A request line that runs past it is answered 414 URI Too Long, headers that do 431 Request Header
    /// Fields Too Large; the connection then closes. Default: 16384 (16 KiB).
    /// </summary>
    public int MaxRequestHeadSize { get; init; } = 16 * 1024;

    /// <summary>
    /// How long a request head may take to arrive, counted from the read that brought its first byte. On expiry the
    /// server answers 408 Request Timeout and closes the connection. <see cref="Timeout.InfiniteTimeSpan"/> for no limit.
    /// A connection that is silent between requests is not timed here (that is an idle timeout). Default: 10 s.
    /// </summary>
    public TimeSpan HeaderTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The pipe of each connection. Its <see cref="ConnectionPipeOptions.MaxBufferedInput"/> must hold a whole head:
    /// at least <see cref="MaxRequestHeadSize"/>. Default: the pipe's defaults, with <c>MaxBufferedInput</c> twice
    /// <see cref="MaxRequestHeadSize"/> (32 KiB by default), so that a connection holds at most that much input.
    /// </summary>
    public ConnectionPipeOptions? Pipe { get; init; }

    /// <summary>The pipe options a connection uses: <see cref="Pipe"/>, or the default sized for the head limit.</summary>
    internal ConnectionPipeOptions EffectivePipe => _pipe ??= Pipe ?? new ConnectionPipeOptions { MaxBufferedInput = 2L * MaxRequestHeadSize };

    /// <summary>Refuses options that cannot work, with the limit, its value and what to change.</summary>
    internal void Validate()
    {
        if (MaxRequestHeadSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequestHeadSize), MaxRequestHeadSize,
                "HelloServerOptions.MaxRequestHeadSize must be a positive number of bytes (default 16384).");
        }

        if (HeaderTimeout <= TimeSpan.Zero && HeaderTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(HeaderTimeout), HeaderTimeout,
                "HelloServerOptions.HeaderTimeout must be positive, or Timeout.InfiniteTimeSpan for no limit (default 10 s).");
        }

        if (Pipe is { MaxBufferedInput: long buffered } && buffered < MaxRequestHeadSize)
        {
            throw new ArgumentOutOfRangeException(nameof(Pipe), buffered,
                $"HelloServerOptions.Pipe.MaxBufferedInput ({buffered} bytes) is below MaxRequestHeadSize ({MaxRequestHeadSize} bytes): " +
                "the pipe would stop receiving before a head at the limit arrives. Raise MaxBufferedInput or lower MaxRequestHeadSize.");
        }
    }
}
