namespace Miniss.Net;

/// <summary>How a <see cref="ShardListener"/> binds and listens, and the options its accepted connections start with.
/// Every property has a documented default.</summary>
public sealed class ListenerOptions
{
    /// <summary>The length of the queue of connections the kernel has completed and nobody has accepted yet
    /// (<c>listen</c>'s backlog; the kernel caps it at <c>net.core.somaxconn</c>). Default: 511.</summary>
    public int Backlog { get; init; } = 511;

    /// <summary>Whether the socket sets <c>SO_REUSEPORT</c>, so that several listeners (one per shard) bind the same
    /// address and the kernel spreads incoming connections over them. Default: true. Ignored for Unix domain
    /// endpoints.</summary>
    public bool ReusePort { get; init; } = true;

    /// <summary>Whether this listener may share its TCP port with listeners of another process (<c>SO_REUSEPORT</c>
    /// across processes, so the kernel splits the clients between them). Default: false: binding a port that another
    /// process already listens on fails with <see cref="System.Net.Sockets.SocketError.AddressAlreadyInUse"/>, as a
    /// server without <c>SO_REUSEPORT</c> would, even though the listeners of this process share it. The check binds a
    /// probe socket without <c>SO_REUSEPORT</c> before the first listener of this process takes a fixed port (port 0
    /// needs none); any socket listening there, of this process or another, that is not a Miniss listener of this
    /// process makes it fail. Ignored with <see cref="ReusePort"/> off (the bind itself then fails) and for Unix domain
    /// endpoints.</summary>
    public bool ShareAcrossProcesses { get; init; }

    /// <summary>Whether the socket sets <c>SO_REUSEADDR</c>, so that a restarted server binds its port while
    /// connections of the previous one linger in TIME_WAIT. Default: true. Ignored for Unix domain endpoints.</summary>
    public bool ReuseAddress { get; init; } = true;

    /// <summary>For an IPv6 endpoint: whether it also accepts IPv4 connections (as IPv4-mapped addresses), i.e.
    /// <c>IPV6_V6ONLY</c> off. Default: <see langword="null"/>, the system's default (<c>net.ipv6.bindv6only</c>).</summary>
    public bool? DualMode { get; init; }

    /// <summary>Whether accepted TCP connections start with <c>TCP_NODELAY</c> (Nagle's algorithm off), as servers that
    /// write whole responses want. Default: true. Ignored for Unix domain endpoints.</summary>
    public bool NoDelay { get; init; } = true;
}
