using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Catalog;
using Miniss.Scheduling;

namespace Miniss.Net.Internal;

/// <summary>
/// A listener's multishot accept on one shard: one <c>IORING_OP_ACCEPT</c> with <c>IORING_ACCEPT_MULTISHOT</c> stays
/// armed and completes once per connection; accepted descriptors queue here until an accept takes them. Accepts of
/// every shard wait here: a descriptor goes to the first waiter, whatever its shard (its continuation resumes on its
/// own shard), so no accept waits while a connection is queued.
/// </summary>
/// <remarks>
/// The queue and the waiters are shared with other shards' accepts, under <c>_gate</c>; the SQE's state
/// (<see cref="MultishotStream.State"/>) belongs to <see cref="MultishotStream.Shard"/>, which an accept on another
/// shard asks to arm.
/// The queue is bounded (<see cref="MaxQueued"/>): when it is full, the multishot accept is cancelled and armed again
/// by the accept that finds the queue empty, so connections nobody accepts wait in the kernel's backlog, as they would
/// with single-shot accepts. The listener's dispose (any thread) closes what is queued; a descriptor that arrives after it
/// is closed at once. A failure ends the multishot accept: it reaches the next accept (as a single-shot accept's
/// would), and the accept after that arms it again. EINVAL before any multishot accept worked on the shard means the
/// kernel lacks them: the shard accepts single-shot from then on.
/// </remarks>
internal sealed class MultishotAcceptor : MultishotStream
{
    /// <summary>Accepted connections kept waiting for an accept, at most.</summary>
    public const int MaxQueued = 128;

    private static readonly Action<object?> s_cancelArmed = static state => ((MultishotAcceptor)state!).CancelArmed();

    private static readonly Action<object?> s_cancelWaiter = static state => ((Waiter)state!).Owner.OnWaiterCancelled((Waiter)state!);

    private static readonly Action<object?> s_armForWaiters = static state => ((MultishotAcceptor)state!).ArmForWaiters();

    private readonly ShardListener _listener;
    private readonly Lock _gate = new();
    // Under _gate: shared with accepts of other shards and with the listener's dispose.
    private readonly Queue<int> _accepted = new();
    private readonly List<Waiter> _waiters = [];
    private int _pendingErrno;
    private bool _closed;

    public MultishotAcceptor(ShardListener listener, Shard shard)
        : base(shard) => _listener = listener;

    /// <summary>Whether the kernel refused multishot accepts: accepts go single-shot. Read by accepts of any shard.</summary>
    public bool Unsupported => State == MultishotState.Unsupported;

    /// <inheritdoc/>
    protected override SafeHandle Handle => _listener.Handle;

    /// <summary>Accepted descriptors waiting for an accept. Any thread.</summary>
    public int QueuedCount
    {
        get
        {
            lock (_gate)
            {
                return _accepted.Count;
            }
        }
    }

    /// <summary>The next accepted descriptor (owned by the caller), or -1 when the kernel refused multishot accepts
    /// (the caller then accepts single-shot). On any shard: on another than <see cref="Shard"/>, the descriptor crosses
    /// from it.</summary>
    public async ValueTask<int> AcceptAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Waiter? waiter = null;
        int errno;
        lock (_gate)
        {
            if (_closed)
            {
                throw ShardListener.Aborted();
            }

            if (_accepted.TryDequeue(out int ready))
            {
                return ready;
            }

            errno = _pendingErrno;
            _pendingErrno = 0;
            if (errno == 0 && !Unsupported)
            {
                waiter = new Waiter(this, cancellationToken);
                _waiters.Add(waiter);
            }
        }

        if (errno != 0)
        {
            throw IoErrors.Create(errno, "accept", IoDomain.Socket, null);
        }

        if (waiter is null)
        {
            return -1;
        }

        if (Shard.Current == Shard)
        {
            if (!IsArmed && !TryArmAccept())
            {
                // Every waiter, this one too, accepts single-shot.
                ReleaseWaiters();
            }
        }
        else
        {
            // The SQE belongs to the acceptor's shard: it arms it if nothing is armed.
            Shard.Post(new Scheduling.WorkItem(s_armForWaiters, this));
        }

        using (cancellationToken.UnsafeRegister(s_cancelWaiter, waiter))
        {
            return await waiter.Task.ConfigureAwait(true);
        }
    }

    /// <summary>The server stops accepting for a while: a multishot accept that nobody waits on is cancelled (the
    /// next accept arms it again). On <see cref="Shard"/>.</summary>
    public void CancelIfIdle()
    {
        if (State != MultishotState.Armed || Shard.Current != Shard)
        {
            return;
        }

        lock (_gate)
        {
            if (_waiters.Count > 0)
            {
                return;
            }
        }

        RequestCancel();
    }

    /// <summary>The listener was disposed (any thread): queued descriptors are closed; the multishot accept ends by
    /// the listener's shutdown and fails the accepts still waiting.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            while (_accepted.TryDequeue(out int fd))
            {
                _ = Libc.close(fd);
            }
        }

        // A TCP listener's shutdown ends the multishot accept; a Unix domain one's does not (its accept just finds no
        // connection and waits again), so the accept is also cancelled, by its shard.
        Shard.Post(new Scheduling.WorkItem(s_cancelArmed, this));
    }

    private void CancelArmed()
    {
        if (Shard.Current == Shard)
        {
            RequestCancel();
        }
    }

    /// <inheritdoc/>
    protected override void OnItem(int result, uint flags, bool more)
    {
        if (result >= 0)
        {
            Shard.Networking.MultishotAcceptConfirmed = true;
            Shard.Networking.CountMultishotAccepted();
            Deliver(result);
        }
        else if (more)
        {
            // A failure of one connection (ECONNABORTED...) that did not end the multishot accept: the next accept
            // hears of it, as a single-shot accept would have.
            Fail(-result);
        }
    }

    /// <inheritdoc/>
    protected override void OnEnded(int result)
    {
        if (_listener.IsDisposed || Closed)
        {
            FailAll(ShardListener.Aborted());
        }
        else if (Shard.IsRejecting)
        {
            FailAll(IoErrors.Create(Errno.ECANCELED, "accept", IoDomain.Socket, null));
        }
        else if (result == -Errno.EINVAL && !Shard.Networking.MultishotAcceptConfirmed)
        {
            // The kernel does not know multishot accepts: the waiters accept single-shot, and so does the shard.
            Shard.Networking.MultishotAcceptUnsupported = true;
            MarkUnsupported();
            ReleaseWaiters();
        }
        else
        {
            if (result < 0 && result != -Errno.ECANCELED)
            {
                Fail(-result);
            }

            // Cancelled because the queue was full or the server paused, or ended by a failure (EMFILE...): armed
            // again while someone waits.
            ArmForWaiters();
        }
    }

    private bool Closed
    {
        get
        {
            lock (_gate)
            {
                return _closed;
            }
        }
    }

    /// <summary>Arms the multishot accept when accepts wait and nothing is armed; when it cannot be armed, the waiters
    /// accept single-shot. On <see cref="Shard"/>.</summary>
    private void ArmForWaiters()
    {
        if (IsArmed)
        {
            return;
        }

        lock (_gate)
        {
            if (_waiters.Count == 0)
            {
                return;
            }
        }

        if (!TryArmAccept())
        {
            ReleaseWaiters();
        }
    }

    /// <summary>Tells every waiter to accept single-shot (-1).</summary>
    private void ReleaseWaiters()
    {
        lock (_gate)
        {
            foreach (Waiter waiter in _waiters)
            {
                waiter.Succeed(-1);
            }

            _waiters.Clear();
        }
    }

    private void Deliver(int fd)
    {
        bool full;
        lock (_gate)
        {
            if (_closed)
            {
                _ = Libc.close(fd);
                return;
            }

            // A waiter completes without running its continuation here (it resumes on its own shard), so the lock
            // holds no user code.
            while (_waiters.Count > 0)
            {
                Waiter waiter = _waiters[0];
                _waiters.RemoveAt(0);
                waiter.Succeed(fd);
                return;
            }

            _accepted.Enqueue(fd);
            full = _accepted.Count >= MaxQueued;
        }

        if (full)
        {
            RequestCancel();
        }
    }

    private void Fail(int errno)
    {
        lock (_gate)
        {
            if (_waiters.Count > 0)
            {
                Waiter waiter = _waiters[0];
                _waiters.RemoveAt(0);
                waiter.Fail(IoErrors.Create(errno, "accept", IoDomain.Socket, null));
            }
            else
            {
                _pendingErrno = errno;
            }
        }
    }

    private void FailAll(Exception error)
    {
        lock (_gate)
        {
            foreach (Waiter waiter in _waiters)
            {
                waiter.Fail(error);
            }

            _waiters.Clear();
        }
    }

    /// <summary>A waiter's token was cancelled (any thread): unless a descriptor or a failure reached it first, it
    /// leaves the queue of waiters.</summary>
    private void OnWaiterCancelled(Waiter waiter)
    {
        if (RemoveWaiter(waiter))
        {
            waiter.Fail(new TaskCanceledException("A task was canceled.", null, waiter.Token));
        }
    }

    private bool RemoveWaiter(Waiter waiter)
    {
        lock (_gate)
        {
            return _waiters.Remove(waiter);
        }
    }

    private bool TryArmAccept()
    {
        if (Unsupported || !Shard.Networking.CanMultishotAccept || !TryArm())
        {
            return false;
        }

        Shard.Networking.CountMultishotAcceptArmed();
        return true;
    }

    /// <inheritdoc/>
    protected override unsafe void Prepare(io_uring_sqe* sqe, int fd, ulong userData)
    {
        IoOperations.PrepareMultishotAccept(sqe, fd, userData);
    }

    /// <summary>One accept waiting for a descriptor. Completed exactly once, by whoever takes it out of the waiters
    /// (under <c>_gate</c>), on any thread; the continuation resumes through the awaiting code's context (its shard's),
    /// never inline while the acceptor's shard reaps its ring or holds the lock.</summary>
    private sealed class Waiter(MultishotAcceptor owner, CancellationToken token) : IValueTaskSource<int>
    {
        private CompletionCore<int> _core = new(ContinuationPolicy.AnyThread);

        public MultishotAcceptor Owner { get; } = owner;

        /// <summary>The token the accept waits with: its cancellation is what the await reports.</summary>
        public CancellationToken Token { get; } = token;

        public ValueTask<int> Task => new(this, _core.Version);

        /// <summary>A descriptor (owned by the accept from now on), or -1: accept single-shot.</summary>
        public void Succeed(int fd) => _core.SetResult(null, fd);

        public void Fail(Exception error) => _core.SetException(null, error);

        public int GetResult(short token) => _core.GetResult(null, token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(null, continuation, state, token, flags);
    }
}
