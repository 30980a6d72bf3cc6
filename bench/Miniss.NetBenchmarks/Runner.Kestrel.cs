using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;

namespace Miniss.NetBenchmarks;

/// <summary>
/// The Kestrel suite: the ASP.NET Core sample on Kestrel over Miniss (io_uring, epoll) beside Kestrel over its Sockets
/// transport (default, and inline), TechEmpower-style plaintext (pipelined 16) and JSON under wrk, each server in a
/// process of its own; rewrites the Kestrel section of docs/benchmarks.md (between <see cref="KestrelBeginMarker"/>
/// and <see cref="KestrelEndMarker"/>).
/// </summary>
internal static partial class Runner
{
    /// <summary>Opens the section of docs/benchmarks.md the Kestrel suite writes.</summary>
    public const string KestrelBeginMarker = "<!-- kestrel-bench:begin -->";

    /// <summary>Closes that section.</summary>
    public const string KestrelEndMarker = "<!-- kestrel-bench:end -->";

    private const int PipelineDepth = 16;
    private const double PlaintextGoal = 1.3;

    private static readonly KestrelStack s_kestrelMiniss = new("Miniss (io_uring)", "aspnet-miniss", Inline: false, Backend: "io_uring");
    private static readonly KestrelStack s_kestrelMinissEpoll = new("Miniss (epoll)", "aspnet-miniss", Inline: false, Backend: "epoll");
    private static readonly KestrelStack s_kestrelSockets = new("Sockets", "aspnet-sockets", Inline: false, Backend: null);
    private static readonly KestrelStack s_kestrelSocketsInline = new("Sockets, inline", "aspnet-sockets-inline", Inline: true, Backend: null);
    private static readonly KestrelStack[] s_kestrelStacks = [s_kestrelMiniss, s_kestrelMinissEpoll, s_kestrelSockets, s_kestrelSocketsInline];
    private static readonly KestrelTest[] s_kestrelTests =
    [
        new("plaintext", "plaintext", PipelineDepth),
        new("json", "json", 1),
    ];

    private static async Task<int> RunKestrelAsync(double warmup, double duration, bool writeDoc)
    {
        DateTime started = DateTime.UtcNow;
        string loadBefore = LoadAverage();
        var results = new List<KestrelResult>();
        foreach (KestrelTest test in s_kestrelTests)
        {
            foreach (KestrelStack stack in s_kestrelStacks)
            {
                KestrelResult result = await RunKestrelCaseAsync(stack, test, warmup, duration).ConfigureAwait(false);
                results.Add(result);
                Console.WriteLine($"kestrel {test.Name} on {stack.Name}: {result.RequestsPerSecond:N0} requests/s, p50 {result.P50Microseconds:0} µs, p99 {result.P99Microseconds:0} µs, " +
                    $"server CPU {result.ServerCores:0.00}, {result.RequestsPerCpuSecond:N0} requests per server CPU-second, socket errors {result.SocketErrors}, non-2xx {result.Non2xx}");
            }
        }

        string section = KestrelSection(results, warmup, duration, DateTime.UtcNow - started, loadBefore, LoadAverage());
        Console.WriteLine();
        Console.WriteLine(section);
        string root = RepositoryRoot();
        string artifacts = Path.Combine(root, "artifacts", "net-bench");
        Directory.CreateDirectory(artifacts);
        await File.WriteAllTextAsync(Path.Combine(artifacts, "kestrel.json"), JsonSerializer.Serialize(results, s_indented)).ConfigureAwait(false);
        if (writeDoc)
        {
            string path = Path.Combine(root, "docs", "benchmarks.md");
            string page = File.Exists(path) ? await File.ReadAllTextAsync(path).ConfigureAwait(false) : string.Empty;
            await File.WriteAllTextAsync(path, Benchmarking.DocumentSection.Replace(page, section, KestrelBeginMarker, KestrelEndMarker)).ConfigureAwait(false);
            Console.WriteLine("updated the Kestrel section of docs/benchmarks.md");
        }

        return 0;
    }

    /// <summary>One case: the server, a wrk warm-up (discarded), then wrk measured with --latency while the server's
    /// CPU time (/proc/PID/stat utime + stime) is sampled before and after.</summary>
    private static async Task<KestrelResult> RunKestrelCaseAsync(KestrelStack stack, KestrelTest test, double warmup, double duration)
    {
        int port = FreePort();
        string url = $"http://127.0.0.1:{port}/{test.Path}";
        string script = Path.Combine(AppContext.BaseDirectory, "pipeline.lua");
        using ChildProcess server = ChildProcess.StartSelf($"Kestrel on {stack.Name}", stack.Inline, stack.Backend, "serve", stack.Command, Text(port));
        await server.WaitForLineAsync("listening", s_startTimeout).ConfigureAwait(false);
        using (ChildProcess warm = ChildProcess.StartTool("wrk", $"-t{WrkThreads}", $"-c{WrkConnections}", $"-d{Math.Ceiling(warmup)}s", "-s", script, url, "--", Text(test.Pipeline)))
        {
            await warm.ReadToEndAsync(s_startTimeout + TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
        }

        double cpu = server.CpuSeconds();
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        string output;
        using (ChildProcess wrk = ChildProcess.StartTool("wrk", $"-t{WrkThreads}", $"-c{WrkConnections}", $"-d{Math.Ceiling(duration)}s", "--latency", "-s", script, url, "--", Text(test.Pipeline)))
        {
            output = await wrk.ReadToEndAsync(s_startTimeout + TimeSpan.FromSeconds(duration)).ConfigureAwait(false);
        }

        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        cpu = server.CpuSeconds() - cpu;
        await server.StopAsync(s_startTimeout).ConfigureAwait(false);

        string name = $"{test.Name} on {stack.Name}";
        WrkFigures figures = ParseWrk(output, name);
        double cores = cpu / seconds;
        return new KestrelResult(test.Name, stack.Name, figures.RequestsPerSecond, figures.P50Microseconds, figures.P99Microseconds, cores,
            figures.RequestsPerSecond / cores, figures.SocketErrors, figures.Non2xx);
    }

    private static string KestrelSection(List<KestrelResult> results, double warmup, double duration, TimeSpan took, string loadBefore, string loadAfter)
    {
        var s = new StringBuilder();
        s.Append(KestrelBeginMarker).Append('\n');
        s.Append("## ASP.NET Core: Kestrel on Miniss beside Kestrel on Sockets\n\n");
        s.Append(CultureInfo.InvariantCulture, $"Written by `dotnet cake --target=BenchNet --suite=kestrel` (about {Math.Max(1, Math.Round(took.TotalMinutes)):0} min; Release build) from one run on {Machine()}. ");
        s.Append("The same app, samples/Miniss.Samples.AspNetCore (`WebApplication.CreateSlimBuilder`, minimal API, logging off), ");
        s.Append("served by Kestrel over each transport, each server in a process of its own on loopback, one case after the other: ");
        s.Append("Miniss (`UseMiniss`, a shard per core) on io_uring and on epoll (`MINISS_BACKEND`), and Kestrel's Sockets transport with its ");
        s.Append("defaults and with `UnsafePreferInlineScheduling` plus `DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1` (inline). ");
        s.Append(CultureInfo.InvariantCulture, $"TechEmpower-style tests: plaintext with {PipelineDepth} requests pipelined per connection, and JSON (`{{\"message\":\"Hello, World!\"}}` serialized per request by System.Text.Json's generated code) without pipelining. ");
        s.Append(CultureInfo.InvariantCulture, $"`wrk -t{WrkThreads} -c{WrkConnections} -d{Math.Ceiling(duration)}s --latency -s pipeline.lua URL -- DEPTH` after a {Math.Ceiling(warmup)} s warm-up; wrk shares the machine's cores with the server. ");
        s.Append("Server CPU is the server process's user + system time over the measured wall time (/proc/PID/stat), in cores; ");
        s.Append("requests per server CPU-second is requests/s divided by it. Latency with pipelining is wrk's, per batch of requests. ");
        s.Append(CultureInfo.InvariantCulture, $"The machine's load average (1, 5, 15 min) was {loadBefore} before the run and {loadAfter} after it: ");
        s.Append("above 2 other work shared the two cores, which weighs on requests/s and p99 more than on requests per server CPU-second.\n\n");
        s.Append("```sh\ndotnet tool restore && dotnet cake --target=BenchNet --suite=kestrel          # this section\n");
        s.Append(CultureInfo.InvariantCulture, $"dotnet run -c Release --project bench/Miniss.NetBenchmarks -- run --suite kestrel --warmup {warmup:0} --duration {duration:0}   # the same, without the build\n```\n\n");
        s.Append("| test | Kestrel transport | requests/s | p50 | p99 | server CPU | requests per server CPU-second | socket errors | non-2xx | Miniss (io_uring) ÷ this, per CPU-second |\n");
        s.Append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (KestrelResult r in results)
        {
            KestrelResult miniss = Find(results, r.Test, s_kestrelMiniss.Name);
            s.Append(CultureInfo.InvariantCulture,
                $"| {r.Test} | {r.Transport} | {r.RequestsPerSecond:N0} | {Micro(r.P50Microseconds)} | {Micro(r.P99Microseconds)} | {r.ServerCores:0.00} | {r.RequestsPerCpuSecond:N0} | " +
                $"{r.SocketErrors} | {r.Non2xx} | {(r.Transport == s_kestrelMiniss.Name ? "" : $"{miniss.RequestsPerCpuSecond / r.RequestsPerCpuSecond:0.00}x")} |\n");
        }

        KestrelResult plain = Find(results, "plaintext", s_kestrelMiniss.Name);
        KestrelResult plainSockets = Find(results, "plaintext", s_kestrelSockets.Name);
        KestrelResult plainInline = Find(results, "plaintext", s_kestrelSocketsInline.Name);
        double ratio = plain.RequestsPerCpuSecond / plainSockets.RequestsPerCpuSecond;
        double ratioInline = plain.RequestsPerCpuSecond / plainInline.RequestsPerCpuSecond;
        s.Append('\n');
        s.Append(CultureInfo.InvariantCulture,
            $"Plaintext, requests per server CPU-second: Kestrel on Miniss (io_uring) does {ratio:0.00}x Kestrel on Sockets and {ratioInline:0.00}x Sockets inline; ");
        s.Append(CultureInfo.InvariantCulture, $"the goal is at least {PlaintextGoal:0.0}x Sockets, {(ratio >= PlaintextGoal ? "met" : "not met")} in this run. ");
        s.Append(CultureInfo.InvariantCulture,
            $"p99: {Micro(plain.P99Microseconds)} on Miniss against {Micro(plainSockets.P99Microseconds)} on Sockets (the goal: no worse), ");
        s.Append(CultureInfo.InvariantCulture, $"{(plain.P99Microseconds <= plainSockets.P99Microseconds ? "met" : "not met")} in this run.\n\n");
        s.Append(KestrelEndMarker).Append('\n');
        return s.ToString();
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "unknown";

    private static KestrelResult Find(List<KestrelResult> results, string test, string transport)
    {
        foreach (KestrelResult r in results)
        {
            if (r.Test == test && r.Transport == transport)
            {
                return r;
            }
        }

        throw new InvalidOperationException($"no {test} result on {transport}");
    }

    /// <summary>A Kestrel transport under test: its name in the table, the serve command of its child, whether .NET's
    /// inline socket completions are on, and the Miniss backend (<see langword="null"/> for Sockets).</summary>
    private sealed record KestrelStack(string Name, string Command, bool Inline, string? Backend);

    /// <summary>A TechEmpower-style test: its name, the sample's path, and how many requests wrk pipelines.</summary>
    private sealed record KestrelTest(string Name, string Path, int Pipeline);

    private sealed record KestrelResult(string Test, string Transport, double RequestsPerSecond, double P50Microseconds, double P99Microseconds,
        double ServerCores, double RequestsPerCpuSecond, long SocketErrors, long Non2xx);
}
