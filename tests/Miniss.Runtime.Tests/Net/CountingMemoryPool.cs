using System;
using System.Buffers;
using System.Threading;

namespace Miniss.Runtime.Tests.Net;

/// <summary>A memory pool that counts the bytes rented and not returned yet, and the most ever at once: what a pipe
/// holds, measured where it takes its memory. Any thread.</summary>
internal sealed class CountingMemoryPool : MemoryPool<byte>
{
    private long _rented;
    private long _peak;

    /// <summary>Bytes rented and not returned.</summary>
    public long Rented => Interlocked.Read(ref _rented);

    /// <summary>The most bytes ever rented at once.</summary>
    public long Peak => Interlocked.Read(ref _peak);

    public override int MaxBufferSize => 1 << 20;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        int size = minBufferSize < 0 ? 4096 : minBufferSize;
        long now = Interlocked.Add(ref _rented, size);
        long peak;
        while (now > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
        {
        }

        return new Owner(this, new byte[size]);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Owner(CountingMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private int _returned;

        public Memory<byte> Memory => array;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                Interlocked.Add(ref pool._rented, -array.Length);
            }
        }
    }
}
