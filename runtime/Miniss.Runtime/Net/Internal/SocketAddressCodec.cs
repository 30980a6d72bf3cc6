using System;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Miniss.Bindings.Linux;

namespace Miniss.Net.Internal;

/// <summary>
/// Converts between .NET endpoints and the kernel's <c>sockaddr</c> records: <see cref="IPEndPoint"/> through the
/// generated <c>sockaddr_in</c> / <c>sockaddr_in6</c>, <see cref="UnixDomainSocketEndPoint"/> through .NET's own
/// serialisation (it knows the path-length and abstract-name rules; on Linux its bytes are the native
/// <c>sockaddr_un</c>).
/// </summary>
internal static unsafe class SocketAddressCodec
{
    /// <summary>Room for any address: <c>sizeof(struct sockaddr_storage)</c>.</summary>
    public const int MaxSize = 128;

    /// <summary>The address family a socket for <paramref name="endPoint"/> needs.</summary>
    /// <exception cref="ArgumentException">Neither an IP nor a Unix domain endpoint.</exception>
    public static AddressFamily FamilyOf(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint { AddressFamily: AddressFamily.InterNetwork } => AddressFamily.InterNetwork,
        IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } => AddressFamily.InterNetworkV6,
        UnixDomainSocketEndPoint => AddressFamily.Unix,
        _ => throw new ArgumentException(
            $"Miniss sockets take an IPEndPoint or a UnixDomainSocketEndPoint, not {endPoint.GetType().Name} (resolve host names first, e.g. with Dns.GetHostAddressesAsync)",
            nameof(endPoint)),
    };

    /// <summary>The <c>AF_*</c> value of a .NET address family.</summary>
    public static int NativeFamily(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => Sockets.AF_INET,
        AddressFamily.InterNetworkV6 => Sockets.AF_INET6,
        AddressFamily.Unix => Sockets.AF_UNIX,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "only IPv4, IPv6 and Unix domain sockets are supported"),
    };

    /// <summary>Writes <paramref name="endPoint"/> at <paramref name="address"/> (at least <see cref="MaxSize"/> bytes);
    /// returns the record's length.</summary>
    public static int Write(EndPoint endPoint, byte* address)
    {
        new Span<byte>(address, MaxSize).Clear();
        switch (endPoint)
        {
            case IPEndPoint { AddressFamily: AddressFamily.InterNetwork } ip:
            {
                var record = (sockaddr_in*)address;
                record->sin_family = Sockets.AF_INET;
                record->sin_port = HostToNetwork(ip.Port);
                ip.Address.TryWriteBytes(new Span<byte>(&record->sin_addr, 4), out _);
                return sizeof(sockaddr_in);
            }

            case IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } ip:
            {
                var record = (sockaddr_in6*)address;
                record->sin6_family = Sockets.AF_INET6;
                record->sin6_port = HostToNetwork(ip.Port);
                ip.Address.TryWriteBytes(new Span<byte>(&record->sin6_addr, 16), out _);
                record->sin6_scope_id = (uint)ip.Address.ScopeId;
                return sizeof(sockaddr_in6);
            }

            case UnixDomainSocketEndPoint unix:
            {
                SocketAddress serialized = unix.Serialize();
                serialized.Buffer.Span[..serialized.Size].CopyTo(new Span<byte>(address, MaxSize));
                return serialized.Size;
            }

            default:
                _ = FamilyOf(endPoint);
                return 0;
        }
    }

    /// <summary>Reads the <c>sockaddr</c> of <paramref name="length"/> bytes at <paramref name="address"/>.</summary>
    /// <returns>The endpoint, or <see langword="null"/> for an unnamed Unix socket or an unknown family.</returns>
    public static EndPoint? Read(byte* address, int length)
    {
        if (length < sizeof(ushort))
        {
            return null;
        }

        ushort family = *(ushort*)address;
        switch (family)
        {
            case Sockets.AF_INET when length >= sizeof(sockaddr_in):
            {
                var record = (sockaddr_in*)address;
                var ip = new IPAddress(new ReadOnlySpan<byte>(&record->sin_addr, 4));
                return new IPEndPoint(ip, NetworkToHost(record->sin_port));
            }

            case Sockets.AF_INET6 when length >= sizeof(sockaddr_in6):
            {
                var record = (sockaddr_in6*)address;
                var ip = new IPAddress(new ReadOnlySpan<byte>(&record->sin6_addr, 16), record->sin6_scope_id);
                return new IPEndPoint(ip, NetworkToHost(record->sin6_port));
            }

            case Sockets.AF_UNIX when length > sizeof(ushort):
            {
                var serialized = new SocketAddress(AddressFamily.Unix, length);
                new ReadOnlySpan<byte>(address, length).CopyTo(serialized.Buffer.Span);
                return new UnixDomainSocketEndPoint("/").Create(serialized);
            }

            default:
                return null;
        }
    }

    private static ushort HostToNetwork(int port) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness((ushort)port) : (ushort)port;

    private static int NetworkToHost(ushort port) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(port) : port;
}
