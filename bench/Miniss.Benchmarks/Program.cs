using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Miniss.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Miniss.Benchmarks -- --filter '*'</c>: the micro-benchmarks, in process,
/// with the memory diagnoser on (allocations counted across all threads, shards included).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["report", string artifacts])
        {
            return BenchmarkReport.Write(artifacts);
        }

        // --short (dotnet cake --target=BenchCheck): fewer iterations, for a ratio to check, not a figure for the docs.
        bool shortRun = args is ["--short", ..];
        if (shortRun)
        {
            args = args[1..];
        }

        IConfig config = DefaultConfig.Instance
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(shortRun ? 2 : 4).WithIterationCount(shortRun ? 5 : 12))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }
}
