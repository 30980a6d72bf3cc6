using System;
using System.Buffers.Binary;

namespace Miniss.Samples.AspNetCore;

/// <summary>
/// The content <c>GET /download</c> streams: byte <c>p</c> of the stream is byte <c>p % 8</c> (little-endian) of a
/// 64-bit mix of <c>p / 8</c>, so any range can be produced on its own and a client can check what it received, order
/// included, without the server keeping anything.
/// </summary>
public static class DeterministicBytes
{
    /// <summary>Writes the stream's bytes from <paramref name="offset"/> on into <paramref name="destination"/>.</summary>
    /// <param name="offset">Position in the stream of the first byte written; 0 or more.</param>
    /// <param name="destination">Filled entirely.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative.</exception>
    public static void Fill(long offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        int i = 0;
        while ((offset & 7) != 0 && i < destination.Length)
        {
            destination[i++] = ByteAt(offset++);
        }

        ulong word = (ulong)offset >> 3;
        while (destination.Length - i >= sizeof(ulong))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination[i..], Mix(word++));
            i += sizeof(ulong);
        }

        offset = (long)word << 3;
        while (i < destination.Length)
        {
            destination[i++] = ByteAt(offset++);
        }
    }

    private static byte ByteAt(long position) => (byte)(Mix((ulong)position >> 3) >> (int)((position & 7) * 8));

    // The SplitMix64 finalizer: consecutive inputs give unrelated outputs.
    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
