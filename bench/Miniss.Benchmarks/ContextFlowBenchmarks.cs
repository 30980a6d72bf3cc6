using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Miniss.Diagnostics;

namespace Miniss.Benchmarks;

/// <summary>
/// What carrying the caller's context costs a cross-shard round trip: <see cref="RuntimeOptions.FlowExecutionContext"/>
/// off and on (the caller has an AsyncLocal value set, as a request with a logging scope or an activity has), and with
/// a listener sampling the Miniss activity source (one activity per call).
/// </summary>
public class ContextFlowBenchmarks
{
    private const int Operations = 10_000;
    private static readonly AsyncLocal<object?> s_ambient = new();
    private static readonly Func<int> s_one = static () => s_ambient.Value is null ? 1 : 2;

    private MinissRuntime _runtime = null!;
    private ActivityListener? _listener;

    /// <summary>off: nothing flows; on: the caller's ExecutionContext flows; traced: flow off, a listener samples every
    /// miniss.submit activity.</summary>
    [Params("off", "on", "traced")]
    public string Flow { get; set; } = "off";

    [GlobalSetup]
    public void Setup()
    {
        _runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 2, FlowExecutionContext = Flow == "on" });
        if (Flow == "traced")
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = static source => source.Name == MinissTracing.SourceName,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            };
            ActivitySource.AddActivityListener(_listener);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener?.Dispose();
        _runtime.Dispose();
    }

    /// <summary>await runtime.SubmitTo(1, ...) from shard 0, the caller holding an AsyncLocal value.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public ValueTask<int> Cross_shard_round_trip_with_context() => _runtime.SubmitTo(0, async () =>
    {
        s_ambient.Value = this;
        int sum = 0;
        for (int i = 0; i < Operations; i++)
        {
            sum += await _runtime.SubmitTo(1, s_one);
        }

        return sum;
    });
}
