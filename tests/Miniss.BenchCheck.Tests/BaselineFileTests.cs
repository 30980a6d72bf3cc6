using System;
using System.Collections.Generic;
using System.IO;
using NUnit.Framework;

namespace Miniss.BenchCheck.Tests;

public class BaselineFileTests
{
    [Test]
    public void Updating_takes_the_measured_ratios_and_keeps_each_rows_tolerance_and_spread()
    {
        var previous = new Baseline(Baseline.SchemaVersion, "old",
            [new BaselineRow("cross-shard/dotnet", "old text", 0.5, 0.25, "0.42-0.58 over 3 runs")]);
        var measured = new Dictionary<string, double?>();
        foreach (RatioRow row in RatioRows.All)
        {
            measured[row.Id] = 1.23456;
        }

        Baseline updated = Baseline.Update(previous, RatioRows.All, measured, "cmd");

        Assert.That(updated.Rows, Has.Count.EqualTo(RatioRows.All.Count));
        BaselineRow kept = Find(updated, "cross-shard/dotnet");
        Assert.That(kept.Ratio, Is.EqualTo(1.235));
        Assert.That(kept.Tolerance, Is.EqualTo(0.25));
        Assert.That(kept.Spread, Is.EqualTo("0.42-0.58 over 3 runs"));
        Assert.That(Find(updated, "nop-await/c").Tolerance, Is.EqualTo(Baseline.DefaultTolerance));
    }

    [Test]
    public void Updating_from_a_run_that_missed_a_row_is_refused()
    {
        var measured = new Dictionary<string, double?>();
        foreach (RatioRow row in RatioRows.All)
        {
            measured[row.Id] = 1.0;
        }

        measured["nop-await/c"] = null;

        Assert.That(() => Baseline.Update(null, RatioRows.All, measured, "cmd"),
            Throws.InvalidOperationException.With.Message.Contains("nop-await/c"));
    }

    [Test]
    public void A_baseline_survives_writing_and_reading()
    {
        var baseline = new Baseline(Baseline.SchemaVersion, "cmd", [new BaselineRow("a", "b", 0.75, 0.3, "c")]);

        Baseline read = Baseline.Parse(baseline.ToJson());

        Assert.That(read.Rows, Is.EqualTo(baseline.Rows));
    }

    [TestCase(1.0)]
    [TestCase(-0.1)]
    public void A_tolerance_outside_zero_to_one_is_refused(double tolerance)
    {
        string json = new Baseline(Baseline.SchemaVersion, "cmd", [new BaselineRow("a", "b", 0.75, tolerance, "c")]).ToJson();

        Assert.That(() => Baseline.Parse(json), Throws.TypeOf<InvalidDataException>().With.Message.Contains("tolerance"));
    }

    [Test]
    public void The_committed_baseline_guards_every_row_within_a_stated_tolerance()
    {
        Baseline committed = Baseline.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "bench", "baseline.json")));

        var ids = new List<string>();
        foreach (BaselineRow row in committed.Rows)
        {
            ids.Add(row.Id);
            Assert.That(row.Spread, Is.Not.Empty, row.Id);
        }

        var expected = new List<string>();
        foreach (RatioRow row in RatioRows.All)
        {
            expected.Add(row.Id);
        }

        Assert.That(ids, Is.EqualTo(expected));
    }

    private static BaselineRow Find(Baseline baseline, string id)
    {
        foreach (BaselineRow row in baseline.Rows)
        {
            if (row.Id == id)
            {
                return row;
            }
        }

        throw new AssertionException($"no row {id}");
    }

    private static string RepositoryRoot()
    {
        string? directory = TestContext.CurrentContext.TestDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Miniss.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("the tests run from inside the Miniss repository");
    }
}
