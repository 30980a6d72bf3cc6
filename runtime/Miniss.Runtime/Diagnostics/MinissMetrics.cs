using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading;

namespace Miniss.Diagnostics;

/// <summary>
/// A runtime's <see cref="Meter"/> named <c>Miniss</c> (docs/observability.md lists its instruments): created through
/// <see cref="RuntimeOptions.MeterFactory"/> when one is set, else directly, once every shard runs; disposed once every
/// shard has stopped. Every instrument but the stall histogram is observable: it reads, on the listener's thread,
/// counters the shards keep anyway as plain fields, so the shards pay nothing for a listener, attached or not. Each
/// observation gives one measurement per shard, tagged <c>miniss.shard</c> (its id) and <c>miniss.backend</c>.
/// </summary>
internal sealed class MinissMetrics : IDisposable
{
    /// <summary>The meter's name, which listeners (dotnet-counters <c>--counters Miniss</c>, OpenTelemetry's
    /// <c>AddMeter("Miniss")</c>) select it by.</summary>
    public const string MeterName = "Miniss";

    /// <summary>The tag of every measurement naming its shard (an <see cref="int"/>, <see cref="Shard.Id"/>).</summary>
    public const string ShardTag = "miniss.shard";

    /// <summary>The tag of every measurement naming the shard's backend (<see cref="IO.IoBackendSelection.Name"/>).</summary>
    public const string BackendTag = "miniss.backend";

    /// <summary>The tag of <c>miniss.shard.time</c> telling busy time from idle time.</summary>
    public const string StateTag = "miniss.shard.state";

    /// <summary>The tag of <c>miniss.multishot.arms</c> telling receives from accepts.</summary>
    public const string OperationTag = "miniss.multishot.operation";

    private static readonly string? s_version = typeof(MinissMetrics).Assembly.GetName().Version?.ToString();
    private static readonly double s_secondsPerTimestamp = 1.0 / Stopwatch.Frequency;

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?>[][] _tags;
    private readonly KeyValuePair<string, object?>[][] _busyTags;
    private readonly KeyValuePair<string, object?>[][] _idleTags;
    private readonly KeyValuePair<string, object?>[][] _receiveTags;
    private readonly KeyValuePair<string, object?>[][] _acceptTags;
    private readonly Histogram<double> _stallDuration;

    // The largest busy and idle time reported per shard, so that the counters never go back (see Shard.ReadLoopTime).
    private readonly long[] _reportedBusy;
    private readonly long[] _reportedIdle;
    private readonly Lock _loopTimeGate = new();

    // Emptied by Dispose: a meter of a factory outlives the runtime, and its instruments then observe nothing and hold
    // no shard.
    private volatile Shard[] _shards;

    /// <summary>Creates the meter and its instruments for the shards of <paramref name="runtime"/>, which run.</summary>
    public MinissMetrics(MinissRuntime runtime, IMeterFactory? factory)
    {
        int count = runtime.ShardCount;
        var shards = new Shard[count];
        _tags = new KeyValuePair<string, object?>[count][];
        _busyTags = new KeyValuePair<string, object?>[count][];
        _idleTags = new KeyValuePair<string, object?>[count][];
        _receiveTags = new KeyValuePair<string, object?>[count][];
        _acceptTags = new KeyValuePair<string, object?>[count][];
        string backend = runtime.Backend.Name;
        for (int i = 0; i < count; i++)
        {
            shards[i] = runtime[i];
            var shard = new KeyValuePair<string, object?>(ShardTag, i);
            var engine = new KeyValuePair<string, object?>(BackendTag, backend);
            _tags[i] = [shard, engine];
            _busyTags[i] = [shard, engine, new(StateTag, "busy")];
            _idleTags[i] = [shard, engine, new(StateTag, "idle")];
            _receiveTags[i] = [shard, engine, new(OperationTag, "receive")];
            _acceptTags[i] = [shard, engine, new(OperationTag, "accept")];
        }

        _shards = shards;
        _reportedBusy = new long[count];
        _reportedIdle = new long[count];
        _ownsMeter = factory is null;
        _meter = factory is null ? new Meter(MeterName, s_version) : factory.Create(new MeterOptions(MeterName) { Version = s_version });

        // The loop.
        Counter("miniss.shard.ticks", "{tick}", "Turns of the shard's loop.", static s => s.Statistics.Ticks);
        _meter.CreateObservableCounter("miniss.shard.time", ObserveLoopTime, "s",
            "Time the shard's loop spent busy (running tasks, reaping completions, submitting) or idle (spinning or asleep), " +
            "by miniss.shard.state; busy over busy plus idle is the shard's utilization.");
        Counter("miniss.shard.tasks", "{task}", "Work items run from the shard's run queue.", static s => s.Statistics.TasksRun);
        Counter("miniss.shard.sleeps", "{sleep}", "Times the shard slept in the kernel for lack of work.", static s => s.Statistics.Sleeps);
        Counter("miniss.shard.wakeups", "{wakeup}", "Times another thread woke the sleeping shard.", static s => s.Statistics.Wakeups);
        Counter("miniss.shard.system_calls", "{call}", "System calls the shard's engine made (io_uring_enter, or epoll_wait and the readiness backend's I/O calls).",
            static s => s.Statistics.SystemCalls);
        Counter("miniss.shard.exceptions", "{exception}", "Exceptions that escaped work run on the shard.", static s => s.Statistics.UnhandledExceptions);
        Counter("miniss.shard.stalls", "{stall}", "Tasks that kept the shard busy longer than RuntimeOptions.StallThreshold.", static s => s.Statistics.Stalls);
        _stallDuration = _meter.CreateHistogram<double>("miniss.shard.stall.duration", "s",
            "How long each stalled task had run when the stall detector reported it (at least RuntimeOptions.StallThreshold).",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

        // I/O.
        Counter("miniss.io.submissions", "{operation}",
            "I/O operations handed to the shard's engine: single-shot operations and each arming of a multishot receive or accept.",
            static s => s.Statistics.IoSubmissions);
        Counter("miniss.io.completions", "{completion}", "I/O completions the shard reaped (a multishot operation completes many times).",
            static s => s.Statistics.IoCompletions);
        UpDownCounter("miniss.io.in_flight", "{operation}", "I/O operations in flight on the shard's engine, multishot ones included.",
            static s => s.IoInFlight);

        // Messages between shards.
        Counter("miniss.messages.sent", "{message}", "Cross-shard messages the shard handed to another shard's ring (requests and replies).",
            static s => s.Statistics.MessagesSent);
        Counter("miniss.messages.received", "{message}", "Cross-shard messages the shard received (requests and replies).",
            static s => s.Statistics.MessagesReceived);
        UpDownCounter("miniss.messages.queued", "{message}", "Messages waiting in the shard's incoming rings.", static s => s.QueuedMessages);

        // Timers.
        Counter("miniss.timers.fired", "{timer}", "Timers that reached their deadline.", static s => s.Statistics.TimersFired);
        UpDownCounter("miniss.timers.armed", "{timer}", "Timers armed on the shard and not yet fired or cancelled.", static s => s.ArmedTimers);

        // The buffer pool.
        UpDownCounter("miniss.buffer_pool.usage", "By", "Bytes in the shard's pool buffers in use (their capacity).",
            static s => s.Buffers?.BytesInUse ?? 0);
        Gauge("miniss.buffer_pool.peak_usage", "By", "The most bytes in use at once in the shard's buffer pool.",
            static s => s.Buffers?.BytesHighWater ?? 0);
        UpDownCounter("miniss.buffer_pool.reserved", "By", "Bytes of the shard's pool region carved into buffers, in use or free.",
            static s => s.Buffers?.ReservedBytes ?? 0);
        UpDownCounter("miniss.buffer_pool.limit", "By", "The shard's pool limit (BufferPoolConfig.MaxMemory).", static s => s.Buffers?.MaxMemory ?? 0);
        Counter("miniss.buffer_pool.failures", "{failure}", "Allocations the shard's buffer pool refused (no room in the class or the region, or too large).",
            static s => s.Buffers?.FailureCount ?? 0);
        Gauge("miniss.buffer_pool.registered", "1", "1 when the shard's buffer pool is registered with its ring as fixed buffers, else 0.",
            static s => s.Buffers is { IsRegistered: true } ? 1 : 0);

        // Servers.
        Counter("miniss.server.connections.accepted", "{connection}", "Connections the shard's ShardServer accept loops accepted.",
            static s => s.ConnectionsAccepted);
        UpDownCounter("miniss.server.connections.active", "{connection}", "Connections served on the shard whose handler has not returned.",
            static s => s.ConnectionsActive);
        Counter("miniss.server.connections.faulted", "{connection}", "Connections served on the shard whose handler ended with an exception.",
            static s => s.ConnectionsFaulted);

        // Multishot receives and accepts.
        _meter.CreateObservableCounter("miniss.multishot.arms", ObserveMultishotArms, "{arm}",
            "Multishot operations armed (again after each end), by miniss.multishot.operation.");
        Counter("miniss.multishot.starvations", "{starvation}",
            "Multishot receives ended because the provided-buffer ring had no free buffer (ENOBUFS).",
            static s => s.MultishotStatistics.BufferStarvations);
        UpDownCounter("miniss.multishot.buffers.used", "{buffer}", "Provided buffers holding received data not yet consumed.",
            static s => s.Networking.ProvidedBuffersInUse);
    }

    /// <summary>The meter, for listeners that tell runtimes apart by it (<see cref="Instrument.Meter"/>).</summary>
    public Meter Meter => _meter;

    /// <summary>Records a stall reported by the stall detector (on its thread, never a shard's).</summary>
    public void RecordStall(Shard shard, TimeSpan duration)
    {
        if (_shards.Length != 0)
        {
            _stallDuration.Record(duration.TotalSeconds, _tags[shard.Id]);
        }
    }

    /// <summary>The runtime has stopped: the instruments observe nothing more, and a meter created here is disposed
    /// (listeners hear their instruments end). A meter from a factory is the factory's to dispose. Idempotent.</summary>
    public void Dispose()
    {
        _shards = [];
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private void Counter(string name, string unit, string description, Func<Shard, long> read) =>
        _meter.CreateObservableCounter(name, () => Observe(read), unit, description);

    private void UpDownCounter(string name, string unit, string description, Func<Shard, long> read) =>
        _meter.CreateObservableUpDownCounter(name, () => Observe(read), unit, description);

    private void Gauge(string name, string unit, string description, Func<Shard, long> read) =>
        _meter.CreateObservableGauge(name, () => Observe(read), unit, description);

    private Measurement<long>[] Observe(Func<Shard, long> read)
    {
        Shard[] shards = _shards;
        var measurements = new Measurement<long>[shards.Length];
        for (int i = 0; i < shards.Length; i++)
        {
            measurements[i] = new Measurement<long>(read(shards[i]), _tags[i]);
        }

        return measurements;
    }

    private Measurement<double>[] ObserveLoopTime()
    {
        Shard[] shards = _shards;
        var measurements = new Measurement<double>[shards.Length * 2];
        lock (_loopTimeGate)
        {
            for (int i = 0; i < shards.Length; i++)
            {
                shards[i].ReadLoopTime(out long busy, out long idle);
                busy = _reportedBusy[i] = Math.Max(busy, _reportedBusy[i]);
                idle = _reportedIdle[i] = Math.Max(idle, _reportedIdle[i]);
                measurements[2 * i] = new Measurement<double>(busy * s_secondsPerTimestamp, _busyTags[i]);
                measurements[(2 * i) + 1] = new Measurement<double>(idle * s_secondsPerTimestamp, _idleTags[i]);
            }
        }

        return measurements;
    }

    private Measurement<long>[] ObserveMultishotArms()
    {
        Shard[] shards = _shards;
        var measurements = new Measurement<long>[shards.Length * 2];
        for (int i = 0; i < shards.Length; i++)
        {
            MultishotStatistics statistics = shards[i].MultishotStatistics;
            measurements[2 * i] = new Measurement<long>(statistics.ReceivesArmed, _receiveTags[i]);
            measurements[(2 * i) + 1] = new Measurement<long>(statistics.AcceptsArmed, _acceptTags[i]);
        }

        return measurements;
    }
}
