using System;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Scheduling;

namespace Miniss.Net.Internal;

/// <summary>
/// One receive waiting on a <see cref="MultishotReceiver"/>: the caller's memory, its cancellation, and the awaitable
/// the caller holds. The receiver keeps one for reuse (a steady stream of receives allocates nothing) and makes more
/// only for receives issued while one is already waiting.
/// </summary>
/// <remarks>
/// The caller's memory is never handed to the kernel while the receive waits on the multishot receive: data is copied
/// in from the provided buffers. So a cancelled waiter completes at once, and data that arrives afterwards stays
/// queued for the next receive. Only when the receiver falls back to a single-shot receive for this waiter does the
/// kernel hold the memory; that receive is then cancelled through the kernel, like any other.
/// </remarks>
internal sealed class ReceiveWaiter : ConnectionAwaitable
{
    private static readonly Action<object?> s_applyCancel = static state => ((CancelRequest)state!).Apply();

    private static readonly Action<object?> s_onTokenCancelled = static state =>
        ((CancelRequest)state!).Waiter._owner.Shard.Post(new WorkItem(s_applyCancel, state));

    private readonly MultishotReceiver _owner;
    private CancellationTokenRegistration _registration;
    private long _launch;

    public ReceiveWaiter(MultishotReceiver owner)
        : base(ContinuationPolicy.QueueOnShard) => _owner = owner;

    /// <summary>Whether the waiter is waiting for data or an outcome.</summary>
    public bool Pending => InUse && !IsCompleted;

    /// <inheritdoc/>
    protected override Shard Owner => _owner.Shard;

    /// <summary>Where the received bytes go.</summary>
    public Memory<byte> Destination { get; private set; }

    /// <summary>The receive's cancellation.</summary>
    public CancellationToken Token { get; private set; }

    public ValueTask<int> Task => new(this, Version);

    public void Begin(Memory<byte> destination, CancellationToken token)
    {
        BeginLife();
        Destination = destination;
        Token = token;
        _launch++;
        if (token.CanBeCanceled)
        {
            _registration = token.UnsafeRegister(s_onTokenCancelled, new CancelRequest(this, _launch));
        }
    }

    public void Succeed(int received) => Complete(received, null);

    public void Fail(Exception error) => Complete(0, error);

    private void Complete(int result, Exception? error)
    {
        _registration.Unregister();
        _registration = default;
        Destination = default;
        Token = default;

        // Through the run queue: completions arrive while the shard reaps its ring, not a place for user code.
        SetOutcome(result, error);
    }

    // The token may fire on any thread; the receiver acts on it on its shard, and only if the waiter still waits for
    // the same receive (the launch).
    private sealed record CancelRequest(ReceiveWaiter Waiter, long Launch)
    {
        public void Apply()
        {
            if (Waiter._launch == Launch && Waiter.Pending && Shard.Current == Waiter._owner.Shard)
            {
                Waiter._owner.OnWaiterCancelled(Waiter);
            }
        }
    }
}
