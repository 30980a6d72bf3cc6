using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss;

/// <summary>
/// A periodic timer on one shard, shaped like <see cref="PeriodicTimer"/>: each <see cref="WaitForNextTickAsync"/>
/// completes at the next multiple of the period after the start (ticks do not drift; ticks missed while the caller
/// was busy are not queued: the next wait completes at once, once). Use it on the shard that created it.
/// </summary>
public sealed class ShardPeriodicTimer : IDisposable
{
    private readonly Shard _shard;
    private readonly long _period;
    private long _next;
    private CancellationTokenSource? _stop = new();

    /// <summary>Creates a timer on the current shard.</summary>
    /// <exception cref="InvalidOperationException">Not called on a shard.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The period is not positive.</exception>
    public ShardPeriodicTimer(TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        _shard = Shard.Current ?? throw new InvalidOperationException("A ShardPeriodicTimer must be created on a shard.");
        _period = Clock.ToTimestamp(period);
        _next = Clock.Now + _period;
    }

    /// <summary>Waits for the next tick. Returns <see langword="false"/> once the timer is disposed or the runtime stops.</summary>
    /// <exception cref="InvalidOperationException">Called on another thread than the timer's shard.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> WaitForNextTickAsync(CancellationToken cancellationToken = default)
    {
        if (Shard.Current != _shard)
        {
            throw new InvalidOperationException($"This timer belongs to shard {_shard.Id} and must be awaited there.");
        }

        if (_stop is not { } stop || _shard.IsRejecting)
        {
            return false;
        }

        long now = Clock.Now;
        long deadline = _next;
        // Skip ticks that already passed, keeping the phase: the next deadline stays a multiple of the period.
        _next = deadline <= now ? now - ((now - deadline) % _period) + _period : deadline + _period;
        if (deadline <= now)
        {
            return true;
        }

        using CancellationTokenSource? linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stop.Token)
            : null;
        try
        {
            await _shard.ArmTimer(deadline, linked?.Token ?? stop.Token).ConfigureAwait(true);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Disposed, or the runtime is stopping: the timer has ended.
            return false;
        }
        catch (ObjectDisposedException) when (_shard.IsRejecting)
        {
            return false;
        }
    }

    /// <summary>Stops the timer: a pending wait completes with <see langword="false"/>. Idempotent.</summary>
    public void Dispose()
    {
        CancellationTokenSource? stop = Interlocked.Exchange(ref _stop, null);
        stop?.Cancel();
        stop?.Dispose();
    }
}
