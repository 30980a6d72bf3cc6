namespace Miniss.Samples.AspNetCore;

/// <summary>Which transport Kestrel takes its connections from.</summary>
public enum SampleTransport
{
    /// <summary>Miniss shards (<c>UseMiniss</c>): io_uring, or epoll where io_uring cannot be used.</summary>
    Miniss,

    /// <summary>Kestrel's own Sockets transport with its default settings: the control.</summary>
    Sockets,

    /// <summary>Kestrel's Sockets transport with <c>UnsafePreferInlineScheduling</c>: application code runs on the
    /// socket engine's event threads (pair it with <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>).</summary>
    SocketsInline,
}
