namespace Miniss.BenchCheck;

/// <summary>What a figure of a run measures, which says which way is faster.</summary>
internal enum FigureUnit
{
    /// <summary>Time per operation (BenchmarkDotNet's mean, a C floor's <c>ns_per_op</c>): lower is faster.</summary>
    NanosecondsPerOperation,

    /// <summary>Throughput (<c>miniss bench</c>'s operations/s, a C floor's <c>iops</c>): higher is faster.</summary>
    OperationsPerSecond,
}

/// <summary>One figure of a run, named by <see cref="Key"/> as <see cref="RunFigures"/> names what it reads.</summary>
/// <param name="Key">The figure's name, e.g. <c>c:nop batch=1</c> or <c>bdn:Miniss.Benchmarks.ShardBenchmarks.Shard_nop_await</c>.</param>
/// <param name="Unit">What it measures.</param>
internal sealed record Figure(string Key, FigureUnit Unit)
{
    /// <summary>The figure as a speed (higher is faster), from its measured <paramref name="value"/>.</summary>
    public double Speed(double value) => Unit == FigureUnit.NanosecondsPerOperation ? 1e9 / value : value;
}
