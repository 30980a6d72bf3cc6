using System;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Miniss.Scheduling;

namespace Miniss.Net.Internal;

/// <summary>
/// What a <see cref="ConnectionPipe"/>'s receive loop awaits while the input holds
/// <see cref="ConnectionPipeOptions.MaxBufferedInput"/> unconsumed bytes: opened by the application's consumption
/// (receive again), by its completing the input (stop), or failed when the application waits for bytes the bound
/// keeps out. One wait at a time, on the connection's shard; reused, so a pause allocates nothing.
/// </summary>
/// <remarks>
/// <code>
///   idle ──WaitAsync──► waiting ──Open(true): room again────► idle (the loop receives)
///                          ├──── Open(false): input completed ► idle (the loop ends)
///                          └──── Fail(error) ─────────────────► idle (the loop ends; the reader gets the error)
/// </code>
/// </remarks>
internal sealed class ReceiveRoom(Shard shard) : IValueTaskSource<bool>
{
    private CompletionCore<bool> _core;

    /// <summary>Whether the receive loop is waiting for room.</summary>
    public bool IsWaiting { get; private set; }

    /// <summary>Waits until <see cref="Open"/> or <see cref="Fail"/>: true to receive again, false to stop.</summary>
    public ValueTask<bool> WaitAsync()
    {
        _core.Reset();
        IsWaiting = true;
        return new ValueTask<bool>(this, _core.Version);
    }

    /// <summary>Ends the wait, if there is one: <paramref name="receive"/> says whether the loop receives again.</summary>
    public void Open(bool receive)
    {
        if (IsWaiting)
        {
            IsWaiting = false;
            _core.SetResult(shard, receive);
        }
    }

    /// <summary>Ends the wait with <paramref name="error"/>, which the loop hands to the reader.</summary>
    public void Fail(Exception error)
    {
        if (IsWaiting)
        {
            IsWaiting = false;
            _core.SetException(shard, error);
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(shard, token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(shard, continuation, state, token);
}
