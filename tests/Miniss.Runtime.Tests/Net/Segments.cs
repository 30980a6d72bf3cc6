using System;
using System.Buffers;

namespace Miniss.Runtime.Tests.Net;

/// <summary>Builds a multi-segment <see cref="ReadOnlySequence{T}"/> from separate arrays.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Chain(params byte[][] parts)
    {
        var first = new Segments(parts[0], 0);
        Segments last = first;
        for (int i = 1; i < parts.Length; i++)
        {
            var next = new Segments(parts[i], last.RunningIndex + last.Memory.Length);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
