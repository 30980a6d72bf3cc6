using System;
using System.Threading.Tasks;

namespace Miniss.Runtime.Tests;

/// <summary>
/// A runtime started for one test and stopped by <c>await using</c>, with a bound on the stop: a runtime that fails
/// to stop fails the test (<see cref="TimeoutException"/>) instead of hanging the run. Every test that needs a
/// runtime starts it here, on the backend of the running fixture (<see cref="Backends.Current"/>).
/// </summary>
internal sealed class RuntimeScope : IAsyncDisposable
{
    /// <summary>How long a stop may take before the test fails.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private RuntimeScope(MinissRuntime runtime) => Runtime = runtime;

    public MinissRuntime Runtime { get; }

    /// <summary>The options of a test runtime: the fixture's backend, <paramref name="shards"/> shards (two, small
    /// enough for a 2-core machine), the other options at their defaults.</summary>
    public static RuntimeOptions Options(int shards = 2) => new() { Backend = Backends.Current, ShardCount = shards };

    /// <summary>Starts a runtime of <see cref="Options"/>; <paramref name="detectStalls"/> false turns the stall
    /// detector off, <paramref name="registerShardPools"/> false leaves the shards' buffer pools unregistered.</summary>
    public static RuntimeScope Start(int shards = 2, bool registerShardPools = true, bool detectStalls = true)
    {
        RuntimeOptions options = Options(shards);
        options.RegisterBuffers = registerShardPools;
        if (!detectStalls)
        {
            options.StallThreshold = TimeSpan.Zero;
        }

        return Start(options);
    }

    /// <summary>Starts a runtime with the caller's options as they are.</summary>
    public static RuntimeScope Start(RuntimeOptions options) => new(MinissRuntime.Start(options));

    public async ValueTask DisposeAsync() => await Runtime.StopAsync().AsTask().WaitAsync(StopTimeout);
}
