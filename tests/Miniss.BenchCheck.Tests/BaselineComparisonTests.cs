using System.Collections.Generic;
using NUnit.Framework;

namespace Miniss.BenchCheck.Tests;

public class BaselineComparisonTests
{
    private static readonly Baseline OneRow = new(Baseline.SchemaVersion, "test",
        [new BaselineRow("cross-shard/dotnet", "cross-shard round trip", Ratio: 0.50, Tolerance: 0.20, Spread: "0.45-0.55")]);

    [Test]
    public void A_ratio_more_than_the_tolerance_below_the_baseline_fails()
    {
        // The floor is 0.50 x (1 - 0.20) = 0.40.
        IReadOnlyList<RowVerdict> verdicts = BaselineComparison.Compare(OneRow, Measured(("cross-shard/dotnet", 0.39)));

        Assert.That(verdicts[0].Outcome, Is.EqualTo(RowOutcome.Below));
        Assert.That(BaselineComparison.Passed(verdicts), Is.False);
    }

    [Test]
    public void A_ratio_below_the_baseline_but_within_the_tolerance_passes()
    {
        IReadOnlyList<RowVerdict> verdicts = BaselineComparison.Compare(OneRow, Measured(("cross-shard/dotnet", 0.41)));

        Assert.That(verdicts[0].Outcome, Is.EqualTo(RowOutcome.Within));
        Assert.That(BaselineComparison.Passed(verdicts), Is.True);
    }

    [Test]
    public void A_ratio_above_the_baseline_passes()
    {
        IReadOnlyList<RowVerdict> verdicts = BaselineComparison.Compare(OneRow, Measured(("cross-shard/dotnet", 2.0)));

        Assert.That(BaselineComparison.Passed(verdicts), Is.True);
    }

    [Test]
    public void A_baseline_row_the_run_did_not_measure_is_an_error()
    {
        var measured = new Dictionary<string, double?> { ["cross-shard/dotnet"] = null };

        IReadOnlyList<RowVerdict> verdicts = BaselineComparison.Compare(OneRow, measured);

        Assert.That(verdicts[0].Outcome, Is.EqualTo(RowOutcome.NotMeasured));
        Assert.That(BaselineComparison.Passed(verdicts), Is.False);
    }

    [Test]
    public void A_baseline_row_absent_from_the_run_is_an_error()
    {
        IReadOnlyList<RowVerdict> verdicts = BaselineComparison.Compare(OneRow, Measured());

        Assert.That(verdicts[0].Outcome, Is.EqualTo(RowOutcome.NotMeasured));
        Assert.That(BaselineComparison.Passed(verdicts), Is.False);
    }

    [Test]
    public void A_measured_row_the_baseline_lacks_is_an_error()
    {
        IReadOnlyList<RowVerdict> verdicts = BaselineComparison.Compare(OneRow, Measured(("cross-shard/dotnet", 0.5), ("nop-await/c", 0.7)));

        Assert.That(verdicts[1].Id, Is.EqualTo("nop-await/c"));
        Assert.That(verdicts[1].Outcome, Is.EqualTo(RowOutcome.NoBaseline));
        Assert.That(BaselineComparison.Passed(verdicts), Is.False);
    }

    [Test]
    public void The_verdict_of_a_failed_row_names_it_with_the_measured_ratio_and_the_floor()
    {
        IReadOnlyList<RowVerdict> verdicts = BaselineComparison.Compare(OneRow, Measured(("cross-shard/dotnet", 0.3)));

        string verdict = BaselineComparison.Verdict(verdicts);

        Assert.That(verdict, Does.StartWith("BenchCheck FAIL"));
        Assert.That(verdict, Does.Contain("cross-shard/dotnet").And.Contain("0.300x").And.Contain("0.400x").And.Contain("0.500x"));
        Assert.That(verdict, Does.Not.Contain('\n'));
    }

    [Test]
    public void The_table_prints_the_baseline_and_the_measured_ratio_of_each_row()
    {
        string table = BaselineComparison.Table(BaselineComparison.Compare(OneRow, Measured(("cross-shard/dotnet", 0.45))));

        Assert.That(table, Does.Contain("cross-shard/dotnet").And.Contain("0.500x").And.Contain("0.450x"));
    }

    [Test]
    public void An_empty_comparison_does_not_pass()
    {
        var empty = new Baseline(Baseline.SchemaVersion, "test", []);

        IReadOnlyList<RowVerdict> verdicts = BaselineComparison.Compare(empty, Measured());

        Assert.That(BaselineComparison.Passed(verdicts), Is.False);
        Assert.That(BaselineComparison.Verdict(verdicts), Does.StartWith("BenchCheck FAIL"));
    }

    private static Dictionary<string, double?> Measured(params (string Id, double Ratio)[] rows)
    {
        var measured = new Dictionary<string, double?>();
        foreach ((string id, double ratio) in rows)
        {
            measured[id] = ratio;
        }

        return measured;
    }
}
