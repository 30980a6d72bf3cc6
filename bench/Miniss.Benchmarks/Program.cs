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

        IConfig config = DefaultConfig.Instance
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(4).WithIterationCount(12))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }
}
