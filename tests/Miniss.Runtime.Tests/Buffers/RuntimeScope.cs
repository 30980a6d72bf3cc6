using Miniss.IO;
using System;
using System.Threading.Tasks;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>
/// A runtime started for one test and stopped by <c>await using</c>, with a bound on the stop: a runtime that fails to
/// stop fails the test instead of hanging the run.
/// </summary>
internal sealed class RuntimeScope : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private RuntimeScope(MinissRuntime runtime) => Runtime = runtime;

    public MinissRuntime Runtime { get; }

    public static RuntimeScope Start(bool registerShardPools = true) =>
        new(MinissRuntime.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2, RegisterBuffers = registerShardPools }));

    public async ValueTask DisposeAsync() => await Runtime.StopAsync().AsTask().WaitAsync(StopTimeout);
}
