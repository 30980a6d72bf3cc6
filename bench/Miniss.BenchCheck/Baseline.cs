using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Miniss.BenchCheck;

/// <summary>
/// The committed baseline (bench/baseline.json): per row, the ratio of a reference run, how far below it a run may
/// fall (<see cref="BaselineRow.Tolerance"/>, a fraction of the ratio) and why that much (<see cref="BaselineRow.Spread"/>,
/// the run-to-run spread it was chosen from).
/// </summary>
/// <param name="Schema">Always <see cref="SchemaVersion"/>.</param>
/// <param name="Command">The command that measured the ratios.</param>
/// <param name="Rows">One entry per guarded row.</param>
internal sealed record Baseline(string Schema, string Command, IReadOnlyList<BaselineRow> Rows)
{
    /// <summary>The value of <see cref="Schema"/>.</summary>
    public const string SchemaVersion = "miniss-benchcheck-baseline/1";

    /// <summary>The tolerance of a row that has none yet: the spread seen on the rows of this machine's noisiest kind.</summary>
    public const double DefaultTolerance = 0.35;

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Reads a baseline file.</summary>
    /// <exception cref="InvalidDataException">It is not a baseline of this schema, or a row has no sensible ratio or tolerance.</exception>
    public static Baseline Parse(string json)
    {
        Baseline? baseline;
        try
        {
            baseline = JsonSerializer.Deserialize<Baseline>(json, s_json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the baseline is not valid JSON: {e.Message}", e);
        }

        if (baseline is null || baseline.Schema != SchemaVersion || baseline.Rows is null)
        {
            throw new InvalidDataException($"the baseline is not a {SchemaVersion} document: rewrite it with --update-baseline");
        }

        foreach (BaselineRow row in baseline.Rows)
        {
            if (!(row.Ratio > 0) || double.IsInfinity(row.Ratio))
            {
                throw new InvalidDataException($"baseline row {row.Id} has ratio {row.Ratio}: a ratio must be a positive number");
            }

            if (!(row.Tolerance >= 0 && row.Tolerance < 1))
            {
                throw new InvalidDataException($"baseline row {row.Id} has tolerance {row.Tolerance}: a tolerance is a fraction of the ratio, at least 0 and below 1");
            }
        }

        return baseline;
    }

    /// <summary>The baseline as the file holds it.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, s_json) + "\n";

    /// <summary>
    /// The baseline that <c>--update-baseline</c> writes: every row of <paramref name="rows"/> with its ratio measured
    /// now (rounded to 3 decimals), keeping the tolerance and spread note of <paramref name="previous"/>'s row of the
    /// same id, or <see cref="DefaultTolerance"/> for a new row.
    /// </summary>
    /// <exception cref="InvalidOperationException">A row was not measured: a baseline with a hole would make every later check fail.</exception>
    public static Baseline Update(Baseline? previous, IReadOnlyList<RatioRow> rows, IReadOnlyDictionary<string, double?> measured, string command)
    {
        var updated = new List<BaselineRow>(rows.Count);
        foreach (RatioRow row in rows)
        {
            if (!measured.TryGetValue(row.Id, out double? ratio) || ratio is not { } value)
            {
                throw new InvalidOperationException($"row {row.Id} was not measured in this run, so the baseline cannot be rewritten from it: see which step of the run failed");
            }

            BaselineRow? old = null;
            foreach (BaselineRow candidate in previous?.Rows ?? [])
            {
                if (candidate.Id == row.Id)
                {
                    old = candidate;
                }
            }

            updated.Add(new BaselineRow(row.Id, row.Description, Math.Round(value, 3), old?.Tolerance ?? DefaultTolerance,
                old?.Spread ?? "no spread observed yet: the default tolerance"));
        }

        return new Baseline(SchemaVersion, command, updated);
    }
}

/// <summary>One row of the baseline.</summary>
/// <param name="Id">The row's id (<see cref="RatioRow.Id"/>).</param>
/// <param name="Description">What the row measures, for a reader of the file.</param>
/// <param name="Ratio">Miniss's speed over the counterpart's in the reference run.</param>
/// <param name="Tolerance">How far below <paramref name="Ratio"/> a run may fall and pass, as a fraction (0.2: down to 80%).</param>
/// <param name="Spread">Why that tolerance: the spread of this ratio seen over repeated runs.</param>
internal sealed record BaselineRow(string Id, string Description, double Ratio, double Tolerance, string Spread)
{
    /// <summary>The lowest ratio that passes.</summary>
    [JsonIgnore]
    public double Floor => Ratio * (1 - Tolerance);
}
