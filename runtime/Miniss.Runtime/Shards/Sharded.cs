using System;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss;

/// <summary>
/// A service with one instance per shard, each created, used and disposed on its own shard (Seastar's
/// <c>sharded&lt;T&gt;</c>): per-shard state without locks, reached from anywhere through messages.
/// </summary>
/// <typeparam name="T">The service. If it implements <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>,
/// <see cref="StopAsync"/> disposes each instance on its shard.</typeparam>
/// <remarks>Every method sends its work as <see cref="MinissRuntime.SubmitTo{T}(int, Func{T}, CancellationToken)"/> does:
/// the token cancels work that has not started on its shard yet, and <see cref="RuntimeOptions.FlowExecutionContext"/>
/// carries the caller's context to it.</remarks>
public sealed class Sharded<T> : IAsyncDisposable where T : class
{
    private readonly MinissRuntime _runtime;
    private readonly T[] _instances;
    private bool _stopped;

    private Sharded(MinissRuntime runtime, T[] instances)
    {
        _runtime = runtime;
        _instances = instances;
    }

    /// <summary>Creates one instance per shard, each by <paramref name="factory"/> running on that shard.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "Sharded<T>.StartAsync reads as Seastar's sharded<T>::start; T cannot be inferred from a non-generic factory class any better.")]
    public static async ValueTask<Sharded<T>> StartAsync(MinissRuntime runtime, Func<Shard, T> factory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(factory);
        T[] instances = await runtime.InvokeOnAll(() => factory(Shard.Current!), cancellationToken).ConfigureAwait(true);
        return new Sharded<T>(runtime, instances);
    }

    /// <summary>The instance of the shard the caller runs on.</summary>
    /// <exception cref="InvalidOperationException">The caller is not on one of the runtime's shards.</exception>
    public T Local => Shard.Current is { } shard && shard.Runtime == _runtime
        ? _instances[shard.Id]
        : throw new InvalidOperationException("Sharded<T>.Local is only available on the runtime's shards; use InvokeOn from elsewhere.");

    /// <summary>Runs <paramref name="work"/> with the instance of shard <paramref name="shard"/>, on that shard.</summary>
    public ValueTask<TResult> InvokeOn<TResult>(int shard, Func<T, TResult> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(_stopped, this);
        T instance = _instances[_runtime[shard].Id];
        return _runtime.SubmitTo(shard, () => work(instance), cancellationToken);
    }

    /// <summary>Runs asynchronous <paramref name="work"/> with the instance of shard <paramref name="shard"/>, on that shard.</summary>
    public ValueTask<TResult> InvokeOn<TResult>(int shard, Func<T, ValueTask<TResult>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(_stopped, this);
        T instance = _instances[_runtime[shard].Id];
        return _runtime.SubmitTo(shard, () => work(instance), cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> on every shard with its instance and waits for all.</summary>
    public ValueTask InvokeOnAll(Func<T, ValueTask> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(_stopped, this);
        return _runtime.InvokeOnAll(() => work(Local), cancellationToken);
    }

    /// <summary>
    /// Maps every instance on its own shard, then folds the results in shard order on the caller:
    /// <c>reduce(...reduce(reduce(seed, map(shard 0)), map(shard 1))...)</c>.
    /// </summary>
    public async ValueTask<TResult> MapReduce<TMapped, TResult>(Func<T, TMapped> map, TResult seed, Func<TResult, TMapped, TResult> reduce,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(reduce);
        ObjectDisposedException.ThrowIf(_stopped, this);
        TMapped[] mapped = await _runtime.InvokeOnAll(() => map(Local), cancellationToken).ConfigureAwait(true);
        TResult result = seed;
        foreach (TMapped value in mapped)
        {
            result = reduce(result, value);
        }

        return result;
    }

    /// <summary>Disposes every instance on its own shard (when it is disposable). Idempotent.</summary>
    public async ValueTask StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _runtime.InvokeOnAll(async () =>
        {
            switch (_instances[Shard.Current!.Id])
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(true);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }).ConfigureAwait(true);
    }

    /// <inheritdoc cref="StopAsync"/>
    public ValueTask DisposeAsync() => StopAsync();
}
