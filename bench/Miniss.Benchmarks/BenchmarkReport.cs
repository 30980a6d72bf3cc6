using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace Miniss.Benchmarks;

/// <summary>
/// <c>Miniss.Benchmarks report ARTIFACTS</c>: turns one Bench run (BenchmarkDotNet's JSON results and the native
/// baselines' output) into docs/benchmarks.md, each figure beside the specification's budget and its .NET and C
/// counterparts, as ratios from the same run.
/// </summary>
internal static class BenchmarkReport
{
    public static int Write(string artifacts)
    {
        var results = new Dictionary<string, (double Mean, double Allocated)>(StringComparer.Ordinal);
        JsonElement? host = null;
        foreach (string file in Directory.GetFiles(Path.Combine(artifacts, "bdn", "results"), "*.json"))
        {
            using JsonDocument json = JsonDocument.Parse(File.ReadAllText(file));
            host ??= json.RootElement.GetProperty("HostEnvironmentInfo").Clone();
            foreach (JsonElement benchmark in json.RootElement.GetProperty("Benchmarks").EnumerateArray())
            {
                string key = $"{benchmark.GetProperty("Namespace").GetString()}.{benchmark.GetProperty("Type").GetString()}.{benchmark.GetProperty("Method").GetString()}";
                string parameters = benchmark.GetProperty("Parameters").GetString() ?? string.Empty;
                if (parameters.Length > 0)
                {
                    key += $"({parameters})";
                }

                double mean = benchmark.GetProperty("Statistics").GetProperty("Mean").GetDouble();
                double allocated = benchmark.TryGetProperty("Memory", out JsonElement memory)
                    ? memory.GetProperty("BytesAllocatedPerOperation").GetDouble()
                    : double.NaN;
                results[key] = (mean, allocated);
            }
        }

        var native = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in File.ReadAllLines(Path.Combine(artifacts, "native.txt")))
        {
            // "nop batch=1 ns_per_op=X" or "read4k depth=1 mode=buffered iops=... ns_per_op=X"
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string key = string.Join(' ', words.Where(w => !w.StartsWith("iops=", StringComparison.Ordinal) && !w.StartsWith("ns_per_op=", StringComparison.Ordinal)));
            string? value = words.FirstOrDefault(w => w.StartsWith("ns_per_op=", StringComparison.Ordinal));
            if (value is not null)
            {
                native[key] = double.Parse(value["ns_per_op=".Length..], CultureInfo.InvariantCulture);
            }
        }

        string Ns(string key) => results.TryGetValue(key, out var r) ? Format(r.Mean) : "n/a";
        string Alloc(string key) => results.TryGetValue(key, out var r) && !double.IsNaN(r.Allocated) ? $"{r.Allocated:0} B" : "n/a";
        string Ratio(string numerator, string denominator) =>
            results.TryGetValue(numerator, out var a) && results.TryGetValue(denominator, out var b) ? $"{b.Mean / a.Mean:0.00}x" : "n/a";
        string RatioC(string key, string nativeKey) =>
            results.TryGetValue(key, out var a) && native.TryGetValue(nativeKey, out double c) ? $"{c / a.Mean:0.00}x" : "n/a";
        string C(string nativeKey) => native.TryGetValue(nativeKey, out double c) ? Format(c) : "n/a";

        var s = new StringBuilder();
        s.Append("# Miniss benchmarks\n\n");
        s.Append("Written by `dotnet cake --target=Bench` from one run on one machine; every ratio compares figures of that run.\n");
        s.Append("Re-run it to reproduce them (it takes about 15 minutes: BenchmarkDotNet warms each benchmark up for seconds).\n\n");
        if (host is { } h)
        {
            s.Append("## Machine\n\n");
            s.Append(CultureInfo.InvariantCulture, $"- Processor: {Text(h, "ProcessorName")}, {Text(h, "PhysicalProcessorCount")} package(s), {Text(h, "LogicalCoreCount")} logical cores\n");
            s.Append(CultureInfo.InvariantCulture, $"- OS: {Text(h, "OsVersion")}\n");
            s.Append(CultureInfo.InvariantCulture, $"- .NET: {Text(h, "RuntimeVersion")}, {Text(h, "Architecture")}, BenchmarkDotNet {Text(h, "BenchmarkDotNetVersion")}\n");
            s.Append("- A system call costs about 1 µs here (page-table isolation), which sets every figure that enters the kernel.\n\n");
        }

        const string Ring = "Miniss.Benchmarks.RingBenchmarks.";
        const string Shards = "Miniss.Benchmarks.ShardBenchmarks.";
        const string Sleeping = "Miniss.Benchmarks.WakeupBenchmarks.Round_trip_to_a_sleeping_shard";
        const string Setup = "Miniss.Benchmarks.IoSetupBenchmarks.";
        s.Append("## Engine and runtime, per operation\n\n");
        s.Append("| what | Miniss | allocated | specification budget | Miniss goal | .NET built-in | C (liburing) | Miniss vs .NET | Miniss vs C |\n");
        s.Append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        s.Append($"| submit an operation (no system call) | {Ns(Ring + "Submit_nop_no_syscall")} | {Alloc(Ring + "Submit_nop_no_syscall")} | < 100 ns | ≤ 25 ns | | | | |\n");
        s.Append($"| empty poll | {Ns(Ring + "Empty_poll")} | {Alloc(Ring + "Empty_poll")} | < 500 ns | ≤ 20 ns | | | | |\n");
        s.Append($"| cancel (queue the request) | {Ns(Ring + "Cancel_no_syscall")} | {Alloc(Ring + "Cancel_no_syscall")} | < 200 ns | ≤ 100 ns | | | | |\n");
        s.Append($"| NOP round trip, one per system call | {Ns(Ring + "Nop_round_trip")} | {Alloc(Ring + "Nop_round_trip")} | | | | {C("nop batch=1")} | | {RatioC(Ring + "Nop_round_trip", "nop batch=1")} |\n");
        s.Append($"| NOP round trip, 32 per system call | {Ns(Ring + "Nop_round_trip_batched")} | {Alloc(Ring + "Nop_round_trip_batched")} | | | | {C("nop batch=32")} | | {RatioC(Ring + "Nop_round_trip_batched", "nop batch=32")} |\n");
        s.Append($"| `await shard.NopAsync()` | {Ns(Shards + "Shard_nop_await")} | {Alloc(Shards + "Shard_nop_await")} | | | | {C("nop batch=1")} | | {RatioC(Shards + "Shard_nop_await", "nop batch=1")} |\n");
        s.Append($"| whole I/O setup (buffer + submit + handle + await), 32 in flight | {Ns(Setup + "Whole_io_setup_batched")} | {Alloc(Setup + "Whole_io_setup_batched")} | < 1 µs | ≤ 150 ns | | {C("nop batch=32")} | | {RatioC(Setup + "Whole_io_setup_batched", "nop batch=32")} |\n");
        s.Append($"| buffer allocate + free | {Ns(Setup + "Buffer_allocate_and_free")} | {Alloc(Setup + "Buffer_allocate_and_free")} | 50-100 ns (allocate) | | | | | |\n");
        s.Append($"| cross-shard round trip (`SubmitTo`) | {Ns(Shards + "Cross_shard_round_trip")} | {Alloc(Shards + "Cross_shard_round_trip")} | | | {Ns(Shards + "DotNet_channel_round_trip")} (channel ping-pong to another thread) | {C("spsc round_trip")} (two pinned threads, spinning SPSC rings) | {Ratio(Shards + "Cross_shard_round_trip", Shards + "DotNet_channel_round_trip")} | {RatioC(Shards + "Cross_shard_round_trip", "spsc round_trip")} |\n");
        s.Append($"| | | | | | {Ns(Shards + "DotNet_thread_pool_round_trip")} (`await Task.Run`, often the same thread) | | {Ratio(Shards + "Cross_shard_round_trip", Shards + "DotNet_thread_pool_round_trip")} | |\n");
        s.Append($"| cross-shard round trip to a sleeping shard, eventfd wake-up | {Ns(Sleeping + "(MessageRing=False)")} | {Alloc(Sleeping + "(MessageRing=False)")} | | | | | | |\n");
        s.Append($"| cross-shard round trip to a sleeping shard, MSG_RING wake-up | {Ns(Sleeping + "(MessageRing=True)")} | {Alloc(Sleeping + "(MessageRing=True)")} | | | | | {Ratio(Sleeping + "(MessageRing=True)", Sleeping + "(MessageRing=False)")} against eventfd | |\n");
        s.Append($"| timer armed and fired | {Ns(Shards + "Timer_arm_and_fire")} | {Alloc(Shards + "Timer_arm_and_fire")} | | | | | | |\n");
        s.Append($"| timer armed and cancelled (token, exception observed) | {Ns(Shards + "Timer_arm_and_cancel")} | {Alloc(Shards + "Timer_arm_and_cancel")} | | | {Ns(Shards + "DotNet_timer_arm_and_cancel")} (`Task.Delay`) | | {Ratio(Shards + "Timer_arm_and_cancel", Shards + "DotNet_timer_arm_and_cancel")} | |\n\n");
        s.Append("Memory per operation: the specification budgets 176-272 bytes; Miniss's goal is 0 bytes of GC allocation and at most 128 bytes of\n");
        s.Append("its own. The allocated column is BenchmarkDotNet's GC allocation per operation (whole process, shards included).\n\n");

        const string Files = "Miniss.Benchmarks.FileReadBenchmarks.";
        s.Append("## 4 KiB random reads from a 1 GiB file, one shard\n\n");
        s.Append("Buffered reads hit the page cache (the file fits in memory), so they measure the I/O path itself; direct reads go to the device.\n\n");
        s.Append("| queue depth | Miniss buffered | .NET RandomAccess | C buffered | Miniss direct | C direct | Miniss vs .NET | Miniss vs C (buffered) |\n");
        s.Append("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (int depth in new[] { 1, 32 })
        {
            string p = $"(QueueDepth={depth})";
            s.Append(CultureInfo.InvariantCulture,
                $"| {depth} | {Iops(results, Files + "Miniss_buffered" + p)} | {Iops(results, Files + "DotNet_RandomAccess" + p)} | {IopsC(native, $"read4k depth={depth} mode=buffered")} | " +
                $"{Iops(results, Files + "Miniss_direct" + p)} | {IopsC(native, $"read4k depth={depth} mode=direct")} | " +
                $"{Ratio(Files + "Miniss_buffered" + p, Files + "DotNet_RandomAccess" + p)} | {RatioC(Files + "Miniss_buffered" + p, $"read4k depth={depth} mode=buffered")} |\n");
        }

        s.Append("\nFigures are operations per second (IOPS); ratios above 1 mean Miniss is faster.\n");
        string path = Path.Combine(RepositoryRoot(), "docs", "benchmarks.md");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        // The networking section (written by the BenchNet target, from its marker to the end of the page, notes
        // included) is not this run's: keep it as it is.
        const string NetworkingMarker = "<!-- net-bench:begin -->";
        string previous = File.Exists(path) ? File.ReadAllText(path) : string.Empty;
        int networking = previous.IndexOf(NetworkingMarker, StringComparison.Ordinal);
        if (networking >= 0)
        {
            s.Append('\n').Append(previous[networking..]);
        }

        File.WriteAllText(path, s.ToString());
        Console.WriteLine($"wrote {path}");
        return 0;
    }

    private static string Iops(Dictionary<string, (double Mean, double Allocated)> results, string key) =>
        results.TryGetValue(key, out var r) ? (1e9 / r.Mean).ToString("N0", CultureInfo.InvariantCulture) : "n/a";

    private static string IopsC(Dictionary<string, double> native, string key) =>
        native.TryGetValue(key, out double ns) ? (1e9 / ns).ToString("N0", CultureInfo.InvariantCulture) : "n/a";

    private static string Format(double nanoseconds) => nanoseconds switch
    {
        >= 1000 => (nanoseconds / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " µs",
        _ => nanoseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ns",
    };

    private static string Text(JsonElement host, string name) =>
        host.TryGetProperty(name, out JsonElement value) ? value.ToString() : "?";

    private static string RepositoryRoot()
    {
        string? directory = Directory.GetCurrentDirectory();
        while (directory is not null && !File.Exists(Path.Combine(directory, "Miniss.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("run the report from inside the Miniss repository");
    }
}
