using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Catalog;
using Miniss.IO.Uring;

namespace Miniss;

// I/O on the shard's ring: each operation in flight holds a pooled IoPromise from the shard's slot table. The
// members below are what the code generated from the operation catalog calls.
public sealed partial class Shard
{
    private readonly List<IoPromise> _ioSlots = [];
    private readonly Stack<IoPromise> _freeIo = new();

    /// <summary>
    /// Sends a no-op through this shard's io_uring ring and completes with 0 when its completion comes back: the
    /// cost of one operation's round trip. Must be called on this shard; allocates nothing in steady state.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from another thread than this shard's.</exception>
    /// <exception cref="ObjectDisposedException">The runtime is stopping (the await throws).</exception>
    public ValueTask<int> NopAsync()
    {
        EnsureCurrent();
        return IoOperations.NopAsync();
    }

    /// <summary>The shard of the calling thread, for an I/O operation.</summary>
    /// <exception cref="InvalidOperationException">The caller is not on a shard.</exception>
    internal static Shard CurrentForIo() =>
        t_current ?? throw new InvalidOperationException("Miniss I/O operations run on a shard; use MinissRuntime.SubmitTo to get onto one.");

    /// <summary>
    /// Starts an operation: a promise from the pool, or, when the runtime is stopping or the token is already
    /// cancelled, the completed <paramref name="early"/> result to return instead.
    /// </summary>
    internal bool TryBeginIo(string operation, IoDomain domain, CancellationToken cancellationToken, out IoPromise promise, out ValueTask<int> early)
    {
        if (_rejecting)
        {
            promise = null!;
            early = ValueTask.FromException<int>(Stopped());
            return false;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            promise = null!;
            early = ValueTask.FromCanceled<int>(cancellationToken);
            return false;
        }

        if (!_freeIo.TryPop(out IoPromise? pooled))
        {
            pooled = new IoPromise(this, _ioSlots.Count);
            _ioSlots.Add(pooled);
        }

        pooled.Begin(operation, domain);
        _inFlight++;
        promise = pooled;
        early = default;
        return true;
    }

    /// <summary>The next operation record of this shard's engine (zeroed): an SQE of its ring on io_uring.</summary>
    internal unsafe io_uring_sqe* NextSqe() => _ring is { } ring ? ring.NextSqe() : _engine!.NextSqe();

    /// <summary>A timespec that lives as long as the SQE just taken.</summary>
    internal unsafe __kernel_timespec* TimespecOfLastSqe() => _engine!.TimespecOfLastSqe();

    /// <summary>Finishes an operation's SQE and hands its await to the caller. The SQE reaches the kernel with the
    /// tick's batch.</summary>
    internal unsafe ValueTask<int> Launch(IoPromise promise, io_uring_sqe* sqe, CancellationToken cancellationToken)
    {
        sqe->user_data = promise.UserData;
        _stats.IoSubmissions++;
        if (cancellationToken.CanBeCanceled)
        {
            promise.WatchToken(cancellationToken);
        }

        return new ValueTask<int>(promise, promise.Version);
    }

    /// <summary>As <see cref="Launch(IoPromise, io_uring_sqe*, CancellationToken)"/>, for an operation a readiness
    /// engine runs itself: <paramref name="readiness"/> says when, <paramref name="perform"/> makes the system call.</summary>
    internal unsafe ValueTask<int> Launch(IoPromise promise, io_uring_sqe* sqe, ReadinessKind readiness, delegate*<io_uring_sqe*, int> perform, CancellationToken cancellationToken)
    {
        Describe(readiness, perform);
        return Launch(promise, sqe, cancellationToken);
    }

    /// <summary>As <see cref="Launch(IoPromise, io_uring_sqe*, CancellationToken)"/>, for operations without a result.</summary>
    internal unsafe ValueTask LaunchUntyped(IoPromise promise, io_uring_sqe* sqe, CancellationToken cancellationToken)
    {
        sqe->user_data = promise.UserData;
        _stats.IoSubmissions++;
        if (cancellationToken.CanBeCanceled)
        {
            promise.WatchToken(cancellationToken);
        }

        return new ValueTask(promise, promise.Version);
    }

    /// <summary>As <see cref="LaunchUntyped(IoPromise, io_uring_sqe*, CancellationToken)"/>, with how a readiness
    /// engine runs the operation.</summary>
    internal unsafe ValueTask LaunchUntyped(IoPromise promise, io_uring_sqe* sqe, ReadinessKind readiness, delegate*<io_uring_sqe*, int> perform, CancellationToken cancellationToken)
    {
        Describe(readiness, perform);
        return LaunchUntyped(promise, sqe, cancellationToken);
    }

    /// <summary>Tells a readiness engine how to run the record just written; io_uring has no use for it.</summary>
    private unsafe void Describe(ReadinessKind readiness, delegate*<io_uring_sqe*, int> perform)
    {
        if (_ring is null)
        {
            _engine!.DescribeLastSqe(readiness, perform);
        }
    }

    /// <summary>An operation failed while its SQE was being prepared (a closed handle, say): it never reached the
    /// kernel; its await throws <paramref name="error"/>.</summary>
    internal ValueTask<int> AbandonIo(IoPromise promise, Exception error)
    {
        _inFlight--;
        promise.Abandon(error);
        return new ValueTask<int>(promise, promise.Version);
    }

    /// <summary>Asks the kernel to cancel the operation with <paramref name="userData"/> (best effort).</summary>
    internal void SubmitCancel(ulong userData) => _engine!.Cancel(new IoHandle(userData));

    internal void ReleaseIo(IoPromise promise) => _freeIo.Push(promise);

    private void CompleteIo(in IoCompletion completion)
    {
        // Multishot operations have their own slot table and dispatch (Shard.Multishot.cs).
        if ((completion.UserData & MultishotUserDataTag) != 0)
        {
            CompleteMultishot(completion);
            return;
        }

        int slot = (int)(uint)completion.UserData;
        short version = (short)(ushort)(completion.UserData >> 32);
        if ((uint)slot >= (uint)_ioSlots.Count || _ioSlots[slot].Version != version || !_ioSlots[slot].InFlight)
        {
            return;
        }

        _inFlight--;
        _ioSlots[slot].Complete(completion.Result);
    }
}
