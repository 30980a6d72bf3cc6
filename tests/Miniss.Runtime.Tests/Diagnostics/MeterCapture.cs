using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.Runtime.Tests.Diagnostics;

/// <summary>One measurement a listener heard: the instrument's name, the value and the tags.</summary>
internal sealed record Heard(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public int Shard => (int)Tags["miniss.shard"]!;
}

/// <summary>
/// A <see cref="MeterListener"/> that listens to one runtime's <c>Miniss</c> meter only (instruments of other runtimes,
/// started by tests running at the same time, have another <see cref="Instrument.Meter"/>), and keeps what it hears:
/// every histogram record, and on <see cref="Collect"/> one reading of every observable instrument.
/// </summary>
internal sealed class MeterCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Meter _meter;
    private readonly Lock _gate = new();
    private List<Heard>? _collecting;

    public MeterCapture(MinissRuntime runtime)
        : this(runtime.Metrics?.Meter ?? throw new InvalidOperationException("the runtime has no meter"))
    {
    }

    public MeterCapture(Meter meter)
    {
        _meter = meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == _meter)
            {
                Instruments[instrument.Name] = instrument;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => Completed.Enqueue(instrument.Name);
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>The instruments of the meter, by name.</summary>
    public ConcurrentDictionary<string, Instrument> Instruments { get; } = new();

    /// <summary>Every histogram measurement heard so far.</summary>
    public ConcurrentQueue<Heard> Recorded { get; } = new();

    /// <summary>The instruments whose measurements ended (their meter was disposed), by name.</summary>
    public ConcurrentQueue<string> Completed { get; } = new();

    /// <summary>Reads every observable instrument once.</summary>
    public Reading Collect()
    {
        lock (_gate)
        {
            _collecting = [];
            _listener.RecordObservableInstruments();
            var reading = new Reading(_collecting);
            _collecting = null;
            return reading;
        }
    }

    /// <summary>Collects until <paramref name="condition"/> holds of a reading, or fails after <paramref name="seconds"/>.</summary>
    public async Task<Reading> CollectUntil(Func<Reading, bool> condition, CancellationToken token, double seconds = 30)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            Reading reading = Collect();
            if (condition(reading))
            {
                return reading;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the meter never showed what was expected within {seconds} s; last reading:\n{reading}");
            }

            await Task.Delay(5, token);
        }
    }

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var heard = new Heard(instrument.Name, value, new Dictionary<string, object?>(tags.ToArray()));
        if (instrument.IsObservable)
        {
            // Observable instruments report only while Collect holds the gate, on its thread.
            _collecting?.Add(heard);
        }
        else
        {
            Recorded.Enqueue(heard);
        }
    }
}

/// <summary>One reading of every observable instrument.</summary>
internal sealed class Reading(List<Heard> measurements)
{
    public IReadOnlyList<Heard> All => measurements;

    /// <summary>The measurements of one instrument.</summary>
    public IEnumerable<Heard> Of(string instrument) => measurements.Where(m => m.Instrument == instrument);

    /// <summary>The value of an instrument for one shard (and one value of an extra tag, when given).</summary>
    public double Value(string instrument, int shard, string? tag = null, string? tagValue = null)
    {
        Heard[] matching = Of(instrument)
            .Where(m => m.Shard == shard && (tag is null || Equals(m.Tags[tag], tagValue)))
            .ToArray();
        if (matching.Length != 1)
        {
            throw new InvalidOperationException($"{matching.Length} measurements of {instrument} for shard {shard}, not 1");
        }

        return matching[0].Value;
    }

    /// <summary>The sum of an instrument's values over the shards.</summary>
    public double Total(string instrument) => Of(instrument).Sum(m => m.Value);

    public override string ToString() => string.Join("\n", measurements.Select(m =>
        $"{m.Instrument} {m.Value} {string.Join(",", m.Tags.Select(t => $"{t.Key}={t.Value}"))}"));
}
