using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using Miniss.Storage;

namespace Miniss.Profile;

/// <summary>
/// Steady loops on one shard, for <c>perf record</c> and for A/B runs beside the C baselines in bench/native:
/// <code>
///   miniss-profile nop SECONDS              awaited NOPs, one at a time: ns per round trip
///   miniss-profile read FILE DEPTH SECONDS  4 KiB random buffered reads of FILE, DEPTH in flight: reads per second
///   miniss-profile cross SECONDS [both]     two shards: shard 0 awaits SubmitTo(1, () =&gt; 1) in a loop (with "both",
///                                           shard 1 does the same towards shard 0 at once): ns per round trip
/// </code>
/// Each prints one line ("nop ns_per_op=X cpu_ns_per_op=Y", "read4k depth=N iops=X cpu_ns_per_op=Y") after a
/// half-second warm-up. The CPU time is the process's (the shard does all the work; the other threads sleep): on a
/// machine shared with other work it moves much less than the elapsed time, which counts the time the shard waited
/// for a core.
/// </summary>
public static class Program
{
    private const int BlockSize = 4096;

    public static int Main(string[] args)
    {
        if (args is ["cross", string crossSeconds, ..] && args.Length <= 3)
        {
            bool both = args is [_, _, "both"];
            using MinissRuntime pair = MinissRuntime.Start(new RuntimeOptions { ShardCount = 2 });
            Cross(pair, 0.5, both);
            (double crossNs, _) = Cross(pair, Seconds(crossSeconds), both);
            Console.WriteLine($"cross round_trip ns_per_op={crossNs.ToString("F1", CultureInfo.InvariantCulture)}");
            if (Environment.GetEnvironmentVariable("MINISS_PROFILE_STATS") == "1")
            {
                foreach (Shard s in pair.Shards)
                {
                    Console.Error.WriteLine(s.Statistics);
                }
            }
            return 0;
        }

        using MinissRuntime runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 1 });
        switch (args)
        {
            case ["nop", string seconds]:
                Nop(runtime, 0.5);
                TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                (double ns, long operations) = Nop(runtime, Seconds(seconds));
                double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalNanoseconds / operations;
                Console.WriteLine($"nop ns_per_op={ns.ToString("F1", CultureInfo.InvariantCulture)} cpu_ns_per_op={cpu.ToString("F1", CultureInfo.InvariantCulture)}");
                return 0;
            case ["read", string path, string depthText, string seconds]:
                int depth = int.Parse(depthText, CultureInfo.InvariantCulture);
                Read(runtime, path, depth, 0.5);
                TimeSpan readCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                (double iops, long reads) = Read(runtime, path, depth, Seconds(seconds));
                double readCpu = (Process.GetCurrentProcess().TotalProcessorTime - readCpuBefore).TotalNanoseconds / reads;
                Console.WriteLine($"read4k depth={depth} iops={iops.ToString("F0", CultureInfo.InvariantCulture)} cpu_ns_per_op={readCpu.ToString("F1", CultureInfo.InvariantCulture)}");
                return 0;
            default:
                Console.Error.WriteLine("usage: miniss-profile nop SECONDS | read FILE DEPTH SECONDS | cross SECONDS");
                return 2;
        }
    }

    private static double Seconds(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    private static (double NsPerOp, long Operations) Nop(MinissRuntime runtime, double seconds) => runtime.SubmitTo(0, async () =>
    {
        Shard shard = Shard.Current!;
        long until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        long started = Stopwatch.GetTimestamp();
        long operations = 0;
        while (true)
        {
            for (int i = 0; i < 1000; i++)
            {
                await shard.NopAsync();
            }

            operations += 1000;
            long now = Stopwatch.GetTimestamp();
            if (now >= until)
            {
                return ((now - started) * 1e9 / Stopwatch.Frequency / operations, operations);
            }
        }
    }).AsTask().GetAwaiter().GetResult();

    private static readonly Func<int> s_one = static () => 1;

    private static (double NsPerOp, long Operations) Cross(MinissRuntime runtime, double seconds, bool both)
    {
        if (!both)
        {
            return CrossFrom(runtime, 0, 1, seconds).AsTask().GetAwaiter().GetResult();
        }

        var there = CrossFrom(runtime, 0, 1, seconds).AsTask();
        var back = CrossFrom(runtime, 1, 0, seconds).AsTask();
        (double a, long na) = there.GetAwaiter().GetResult();
        (double b, long nb) = back.GetAwaiter().GetResult();

        // Round trips per second of both together, as ns per round trip.
        return (1e9 / ((na * 1e9 / (a * na)) + (nb * 1e9 / (b * nb))), na + nb);
    }

    private static ValueTask<(double NsPerOp, long Operations)> CrossFrom(MinissRuntime runtime, int from, int to, double seconds) => runtime.SubmitTo(from, async () =>
    {
        long until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        long started = Stopwatch.GetTimestamp();
        long operations = 0;
        while (true)
        {
            for (int i = 0; i < 1000; i++)
            {
                await runtime.SubmitTo(to, s_one);
            }

            operations += 1000;
            long now = Stopwatch.GetTimestamp();
            if (now >= until)
            {
                return ((now - started) * 1e9 / Stopwatch.Frequency / operations, operations);
            }
        }
    });

    private static (double Iops, long Reads) Read(MinissRuntime runtime, string path, int depth, double seconds) => runtime.SubmitTo(0, async () =>
    {
        await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
        long blocks = await file.GetLengthAsync() / BlockSize;
        long until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        long started = Stopwatch.GetTimestamp();
        var workers = new Task<long>[depth];
        for (int w = 0; w < depth; w++)
        {
            workers[w] = ReadWorker(file, GC.AllocateArray<byte>(BlockSize, pinned: true), blocks, until, (ulong)w + 1);
        }

        long reads = 0;
        foreach (Task<long> worker in workers)
        {
            reads += await worker;
        }

        return (reads / ((Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency), reads);
    }).AsTask().GetAwaiter().GetResult();

    private static async Task<long> ReadWorker(BufferedFile file, byte[] buffer, long blocks, long until, ulong state)
    {
        long reads = 0;
        while (true)
        {
            for (int i = 0; i < 64; i++)
            {
                // xorshift64: a cheap random block, as the C baseline's rand() is.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                await file.ReadAsync((long)(state % (ulong)blocks) * BlockSize, buffer);
            }

            reads += 64;
            if (Stopwatch.GetTimestamp() >= until)
            {
                return reads;
            }
        }
    }
}
