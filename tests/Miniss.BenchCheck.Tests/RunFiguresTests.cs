using System.Collections.Generic;
using NUnit.Framework;

namespace Miniss.BenchCheck.Tests;

public class RunFiguresTests
{
    [Test]
    public void C_floor_lines_are_keyed_by_their_words_without_the_figures()
    {
        var figures = new Dictionary<string, double>();

        RunFigures.ReadNative(["nop batch=1 ns_per_op=705.5", "read4k depth=32 mode=buffered iops=1000000 ns_per_op=1000.0"], figures);

        Assert.That(figures["c:nop batch=1"], Is.EqualTo(705.5));
        Assert.That(figures["c:read4k depth=32 mode=buffered"], Is.EqualTo(1000.0));
    }

    [Test]
    public void Times_per_operation_give_the_counterparts_time_over_Miniss()
    {
        RatioRow row = Row("nop-await/c");
        var figures = new Dictionary<string, double>
        {
            ["bdn:Miniss.Benchmarks.ShardBenchmarks.Shard_nop_await"] = 1000,
            ["c:nop batch=1"] = 700,
        };

        Assert.That(row.Measure(figures), Is.EqualTo(0.7).Within(1e-9));
    }

    [Test]
    public void Miniss_bench_rows_give_Miniss_operations_over_the_counterparts()
    {
        var figures = new Dictionary<string, double>();
        RunFigures.ReadMinissBench("""
            {"results":[
              {"workload":"ping-pong","runtime":"Miniss","backend":"io_uring","operationsPerSecond":1500000},
              {"workload":"ping-pong","runtime":".NET","backend":null,"operationsPerSecond":1000000}]}
            """, "miniss-bench:", figures);

        Assert.That(Row("bench-ping-pong/dotnet").Measure(figures), Is.EqualTo(1.5).Within(1e-9));
    }

    [Test]
    public void A_row_with_a_missing_figure_is_not_measured()
    {
        var figures = new Dictionary<string, double> { ["c:nop batch=1"] = 700 };

        Assert.That(Row("nop-await/c").Measure(figures), Is.Null);
    }

    private static RatioRow Row(string id)
    {
        foreach (RatioRow row in RatioRows.All)
        {
            if (row.Id == id)
            {
                return row;
            }
        }

        throw new AssertionException($"no row {id}");
    }
}
