using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Miniss.BenchCheck;

/// <summary>
/// Compares the ratios of one run with the baseline: a row passes when its ratio is at least the baseline's ratio
/// less the row's tolerance; a row the baseline has and the run lacks, or the run has and the baseline lacks, is an
/// error (a guard that silently skips a row guards nothing). Above the baseline always passes.
/// </summary>
internal static class BaselineComparison
{
    /// <summary>One verdict per row: the baseline's rows in its order, then the measured rows it does not have.</summary>
    /// <param name="baseline">The committed baseline.</param>
    /// <param name="measured">Each row's ratio in this run by id; <see langword="null"/> for a row whose figures are missing.</param>
    public static IReadOnlyList<RowVerdict> Compare(Baseline baseline, IReadOnlyDictionary<string, double?> measured)
    {
        var verdicts = new List<RowVerdict>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (BaselineRow row in baseline.Rows)
        {
            seen.Add(row.Id);
            double? ratio = measured.TryGetValue(row.Id, out double? value) ? value : null;
            RowOutcome outcome = ratio is not { } r ? RowOutcome.NotMeasured : r >= row.Floor ? RowOutcome.Within : RowOutcome.Below;
            verdicts.Add(new RowVerdict(row.Id, row.Ratio, row.Floor, row.Tolerance, ratio, outcome));
        }

        foreach ((string id, double? ratio) in measured)
        {
            if (!seen.Contains(id))
            {
                verdicts.Add(new RowVerdict(id, null, null, null, ratio, RowOutcome.NoBaseline));
            }
        }

        return verdicts;
    }

    /// <summary>The table printed for a run: per row the baseline's ratio, its floor, the measured ratio, and the outcome.</summary>
    public static string Table(IReadOnlyList<RowVerdict> verdicts)
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"{"row",-28} {"baseline",9} {"tolerance",9} {"floor",7} {"measured",9}  verdict\n");
        foreach (RowVerdict v in verdicts)
        {
            s.Append(CultureInfo.InvariantCulture,
                $"{v.Id,-28} {Ratio(v.BaselineRatio),9} {(v.Tolerance is { } t ? $"{t:P0}" : "-"),9} {Ratio(v.Floor),7} {Ratio(v.Measured),9}  {Describe(v)}\n");
        }

        return s.ToString();
    }

    /// <summary>The one-line verdict: PASS with the number of rows, or FAIL naming every row that failed and why.</summary>
    public static string Verdict(IReadOnlyList<RowVerdict> verdicts)
    {
        var failed = new List<string>();
        foreach (RowVerdict v in verdicts)
        {
            if (!v.Passed)
            {
                failed.Add($"{v.Id} {Describe(v)}");
            }
        }

        if (verdicts.Count == 0)
        {
            return "BenchCheck FAIL: no row was compared (the baseline and the run are both empty)";
        }

        return failed.Count == 0
            ? $"BenchCheck PASS: all {verdicts.Count} ratios within tolerance of the baseline"
            : $"BenchCheck FAIL: {failed.Count} of {verdicts.Count} rows: {string.Join("; ", failed)}";
    }

    /// <summary>Whether every row passed.</summary>
    public static bool Passed(IReadOnlyList<RowVerdict> verdicts)
    {
        foreach (RowVerdict v in verdicts)
        {
            if (!v.Passed)
            {
                return false;
            }
        }

        return verdicts.Count > 0;
    }

    private static string Describe(RowVerdict v) => v.Outcome switch
    {
        RowOutcome.Within => "within",
        RowOutcome.Below => string.Create(CultureInfo.InvariantCulture, $"below: {v.Measured:0.000}x < floor {v.Floor:0.000}x (baseline {v.BaselineRatio:0.000}x - {v.Tolerance:P0})"),
        RowOutcome.NotMeasured => "not measured in this run (a step failed or its figures are missing)",
        _ => "has no baseline: add it with --update-baseline",
    };

    private static string Ratio(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) + "x" : "-";
}
