using System;
using System.Net;
using System.Threading.Tasks;
using Miniss.Net;

namespace Miniss.Docs.Snippets;

/// <summary>The snippets of the deployment guide.</summary>
internal static class Deployment
{
    internal static MinissRuntime Pinned()
    {
        // <cpus>
        // The CPUs of this process's affinity mask (a cgroup cpuset or taskset narrows it): one shard each by default.
        Console.WriteLine($"may run on CPUs {string.Join(',', MinissRuntime.AvailableCpus())}");

        // Or choose: two shards on CPUs 2 and 3, leaving the others to the rest of the machine.
        MinissRuntime runtime = MinissRuntime.Start(new RuntimeOptions { Cpus = [2, 3], PinThreads = true });
        foreach (Shard shard in runtime.Shards)
        {
            Console.WriteLine($"{shard}: pinned {shard.IsPinned}");
        }
        // </cpus>
        return runtime;
    }

    internal static async Task ReportAsync(MinissRuntime runtime)
    {
        // <report>
        Console.WriteLine($"backend: {runtime.Backend}");    // io_uring (probed) or epoll (probed; io_uring rejected: ...)
        bool[] fixedBuffers = await runtime.InvokeOnAll(() => Shard.Current!.HasFixedBuffers);
        Console.WriteLine($"fixed buffers per shard: {string.Join(',', fixedBuffers)}");
        await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Loopback, 0), static _ => ValueTask.CompletedTask);
        Console.WriteLine($"connection limit from RLIMIT_NOFILE: {server.ConnectionLimit}");
        // </report>
    }

    internal static RuntimeOptions SmallFootprint()
    {
        // <small-footprint>
        // Less locked memory per shard: smaller rings, a smaller pool, no fixed-buffer registration.
        return new RuntimeOptions
        {
            RingEntries = 64,
            BufferPool = new Miniss.Buffers.BufferPoolConfig { MaxMemory = 4L << 20 },
            RegisterBuffers = false,
        };
        // </small-footprint>
    }
}
