using System;
using System.Diagnostics.CodeAnalysis;

namespace Miniss.Buffers;

/// <summary>The buffer pool's exceptions, built out of line so the allocation and access paths stay small.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowBufferReturned(BufferPool pool)
    {
        if (pool.IsDisposed)
        {
            ThrowPoolDisposed(pool);
        }

        throw new ObjectDisposedException(
            nameof(BufferHandle),
            $"This buffer of pool {pool.Id} was returned with Deallocate: the handle is stale (use after free).");
    }

    [DoesNotReturn]
    public static void ThrowPoolDisposed(BufferPool pool) =>
        throw new ObjectDisposedException(nameof(BufferPool), $"Buffer pool {pool.Id} has been disposed; its memory is gone.");

    [DoesNotReturn]
    public static void ThrowDefaultHandle() =>
        throw new InvalidOperationException("This BufferHandle is default: it refers to no buffer.");

    [DoesNotReturn]
    public static void ThrowDefaultHandleArgument(string parameter) =>
        throw new ArgumentException("This BufferHandle is default: it refers to no buffer.", parameter);

    [DoesNotReturn]
    public static void ThrowForeignHandle(BufferPool pool, BufferPool owner, string parameter) =>
        throw new ArgumentException(
            $"This buffer belongs to buffer pool {owner.Id}, not to pool {pool.Id}: return it to the pool that allocated it.",
            parameter);

    [DoesNotReturn]
    public static void ThrowDoubleFree(BufferPool pool)
    {
        if (pool.IsDisposed)
        {
            ThrowPoolDisposed(pool);
        }

        throw new InvalidOperationException(
            $"This buffer of pool {pool.Id} was already returned (double free, or a stale copy of a handle whose buffer was freed).");
    }

    [DoesNotReturn]
    public static void ThrowNotOwner(BufferPool pool, Shard owner) =>
        throw new InvalidOperationException(
            $"Buffer pool {pool.Id} belongs to shard {owner.Id}: allocate there (use MinissRuntime.SubmitTo). " +
            "Other threads may only Deallocate and read Stats.");
}
