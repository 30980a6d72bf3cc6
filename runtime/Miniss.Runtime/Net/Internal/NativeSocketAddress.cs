using System;
using System.Net;
using System.Runtime.InteropServices;

namespace Miniss.Net.Internal;

/// <summary>A <c>sockaddr</c> in native memory for one operation (<c>connect</c>, <c>accept</c>): the kernel may read
/// or write it until the operation's completion, so it is freed only after the await. Disposing twice, or disposing
/// a default value, does nothing.</summary>
internal unsafe struct NativeSocketAddress : IDisposable
{
    private byte* _memory;

    /// <summary>The record's address, for the operation.</summary>
    public readonly nint Address => (nint)_memory;

    /// <summary>The record's length in bytes (for <c>connect</c>); for <c>accept</c>, the <c>socklen_t</c> at
    /// <see cref="LengthAddress"/> holds it.</summary>
    public int Length { get; private set; }

    /// <summary>Where <c>accept</c> reads the room available and writes the length of the peer's address.</summary>
    public readonly nint LengthAddress => (nint)(_memory + SocketAddressCodec.MaxSize);

    /// <summary>A record holding <paramref name="endPoint"/>.</summary>
    public static NativeSocketAddress Of(EndPoint endPoint)
    {
        var address = new NativeSocketAddress { _memory = (byte*)NativeMemory.AllocZeroed(SocketAddressCodec.MaxSize + sizeof(uint)) };
        address.Length = SocketAddressCodec.Write(endPoint, address._memory);
        return address;
    }

    /// <summary>Room for an address the kernel writes (<c>accept</c>), with its <c>socklen_t</c> set to the room.</summary>
    public static NativeSocketAddress ForPeer()
    {
        var address = new NativeSocketAddress { _memory = (byte*)NativeMemory.AllocZeroed(SocketAddressCodec.MaxSize + sizeof(uint)) };
        *(uint*)address.LengthAddress = SocketAddressCodec.MaxSize;
        return address;
    }

    /// <summary>The address the kernel wrote (after <c>accept</c>).</summary>
    public readonly EndPoint? ReadPeer() =>
        _memory == null ? null : SocketAddressCodec.Read(_memory, (int)Math.Min(*(uint*)LengthAddress, SocketAddressCodec.MaxSize));

    public void Dispose()
    {
        if (_memory != null)
        {
            NativeMemory.Free(_memory);
            _memory = null;
        }
    }
}
