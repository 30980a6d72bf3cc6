using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Tasks;

namespace Miniss.NetBenchmarks;

/// <summary>
/// <c>run</c>: every case of the networking benchmark, one after the other, each server and each load generator in a
/// process of its own; prints the results and rewrites the networking section of docs/benchmarks.md (between
/// <see cref="BeginMarker"/> and <see cref="EndMarker"/>; the rest of the page is left as it is).
/// </summary>
internal static partial class Runner
{
    /// <summary>Opens the section of docs/benchmarks.md this program writes (the Bench target's report keeps it).</summary>
    public const string BeginMarker = "<!-- net-bench:begin -->";

    /// <summary>Closes that section.</summary>
    public const string EndMarker = "<!-- net-bench:end -->";

    private const string InlineVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    private const int WrkThreads = 2;
    private const int WrkConnections = 64;
    private static readonly int[] s_echoConnections = [1, 64];
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    private static readonly Stack s_miniss = new("Miniss", "echo-miniss", Inline: false, Backend: "io_uring");
    private static readonly Stack s_minissEpoll = new("Miniss on epoll", "echo-miniss", Inline: false, Backend: "epoll");
    private static readonly Stack s_dotNet = new(".NET Socket", "echo-dotnet", Inline: false);
    private static readonly Stack s_dotNetInline = new(".NET Socket, inline completions", "echo-dotnet", Inline: true);

    public static async Task<int> RunAsync(string[] options)
    {
        // --short: a quick look (1 s warm-up, 3 s measured, one round), each overridable.
        bool quick = options.Contains("--short");
        double warmup = Option(options, "--warmup", quick ? 1 : 5);
        double duration = Option(options, "--duration", quick ? 3 : 10);
        bool writeDoc = !options.Contains("--no-doc");
        int suiteAt = Array.IndexOf(options, "--suite");
        string suite = suiteAt >= 0 && suiteAt + 1 < options.Length ? options[suiteAt + 1] : "all";
        if (suite is not ("all" or "net" or "kestrel" or "native" or "shared"))
        {
            Console.Error.WriteLine($"--suite {suite} is not a suite; use all, net (echo and HTTP sample), kestrel (ASP.NET Core on Miniss and Sockets), " +
                "native (one server core beside tokio and C) or shared (two Miniss processes on one CPU, p99 beside Kestrel)");
            return 2;
        }

        if (suite == "shared")
        {
            int rounds = (int)Option(options, "--rounds", quick ? 1 : 3);
            if (rounds < 1)
            {
                Console.Error.WriteLine($"--rounds {rounds} runs nothing: give at least 1");
                return 2;
            }

            return await RunSharedAsync(warmup, duration, rounds, writeDoc).ConfigureAwait(false);
        }

        if (suite == "native")
        {
            return await RunNativeAsync(warmup, duration, writeDoc).ConfigureAwait(false);
        }

        if (suite == "kestrel")
        {
            return await RunKestrelAsync(warmup, duration, writeDoc).ConfigureAwait(false);
        }

        DateTime started = DateTime.UtcNow;

        // Each stack with its own client, then one shared client (.NET Socket, default settings) against every server.
        var ownClient = new[] { (s_miniss, s_miniss), (s_minissEpoll, s_minissEpoll), (s_dotNet, s_dotNet), (s_dotNetInline, s_dotNetInline) };
        var sharedClient = new[] { (s_miniss, s_dotNet), (s_minissEpoll, s_dotNet), (s_dotNet, s_dotNet), (s_dotNetInline, s_dotNet) };
        var echo = new Dictionary<(Stack Server, Stack Client, int Connections), EchoResult>();
        foreach (int connections in s_echoConnections)
        {
            foreach ((Stack server, Stack client) in ownClient.Concat(sharedClient))
            {
                if (!echo.ContainsKey((server, client, connections)))
                {
                    EchoResult result = await RunEchoAsync(server, client, connections, warmup, duration).ConfigureAwait(false);
                    echo[(server, client, connections)] = result;
                    Console.WriteLine($"echo {connections,2} connections, {server.Name} server, {client.Name} client: " +
                        $"{result.RequestsPerSecond:N0} requests/s, p99 {result.P99Microseconds:0.0} µs, server CPU {result.ServerCores:0.00}, client CPU {result.ClientCores:0.00}");
                }
            }
        }

        var http = new List<HttpResult>();
        foreach ((string name, string server, string? backend) in new[] { ("Miniss (HTTP sample)", "http-miniss", "io_uring"), ("Miniss (HTTP sample) on epoll", "http-miniss", "epoll"), ("Kestrel", "http-kestrel", null) })
        {
            HttpResult result = await RunHttpAsync(name, server, backend, warmup, duration).ConfigureAwait(false);
            http.Add(result);
            Console.WriteLine($"http {name}: {result.RequestsPerSecond:N0} requests/s, p99 {result.P99Microseconds:0.0} µs, server CPU {result.ServerCores:0.00}, " +
                $"socket errors {result.SocketErrors}, non-2xx {result.Non2xx}");
        }

        string section = Section(ownClient, sharedClient, echo, http, warmup, duration, DateTime.UtcNow - started);
        Console.WriteLine();
        Console.WriteLine(section);
        string root = RepositoryRoot();
        string artifacts = Path.Combine(root, "artifacts", "net-bench");
        Directory.CreateDirectory(artifacts);
        await File.WriteAllTextAsync(Path.Combine(artifacts, "results.json"), JsonSerializer.Serialize(new
        {
            echo = echo.Select(e => new { server = e.Key.Server.Name, client = e.Key.Client.Name, connections = e.Key.Connections, result = e.Value }),
            http,
        }, s_indented)).ConfigureAwait(false);
        if (writeDoc)
        {
            string path = Path.Combine(root, "docs", "benchmarks.md");
            await File.WriteAllTextAsync(path, ReplaceSection(File.Exists(path) ? await File.ReadAllTextAsync(path).ConfigureAwait(false) : string.Empty, section)).ConfigureAwait(false);
            Console.WriteLine("updated the networking section of docs/benchmarks.md");
        }

        if (suite != "all")
        {
            return 0;
        }

        int kestrel = await RunKestrelAsync(warmup, duration, writeDoc).ConfigureAwait(false);
        return kestrel != 0 ? kestrel : await RunNativeAsync(warmup, duration, writeDoc).ConfigureAwait(false);
    }

    /// <summary>One echo case: the server, then the load generator, which warms up and measures; the server's CPU
    /// time is sampled when the generator says its window opens and when it reports.</summary>
    private static async Task<EchoResult> RunEchoAsync(Stack server, Stack client, int connections, double warmup, double duration)
    {
        int port = FreePort();
        using ChildProcess serverProcess = ChildProcess.StartSelf($"{server.Name} echo server", server.Inline, server.Backend, "serve", server.Command, Text(port));
        await serverProcess.WaitForLineAsync("listening", s_startTimeout).ConfigureAwait(false);
        using ChildProcess clientProcess = ChildProcess.StartSelf($"{client.Name} echo client", client.Inline, client.Backend,
            "load", client.Command, Text(port), Text(connections), Text(warmup), Text(duration));
        await clientProcess.WaitForLineAsync("measuring", s_startTimeout + TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
        double serverCpu = serverProcess.CpuSeconds();
        string line = await clientProcess.WaitForLineAsync("result ", s_startTimeout + TimeSpan.FromSeconds(duration)).ConfigureAwait(false);
        serverCpu = serverProcess.CpuSeconds() - serverCpu;
        LoadResult load = JsonSerializer.Deserialize<LoadResult>(line["result ".Length..]) ?? throw new InvalidDataException(line);
        await clientProcess.ReadToEndAsync(s_startTimeout).ConfigureAwait(false);
        await serverProcess.StopAsync(s_startTimeout).ConfigureAwait(false);
        return new EchoResult(load.Requests / load.Seconds, load.P50Microseconds, load.P99Microseconds, serverCpu / load.Seconds, load.CpuSeconds / load.Seconds);
    }

    /// <summary>One HTTP case: the server, wrk for the warm-up (discarded), then wrk measured with --latency while
    /// the server's CPU time is sampled before and after.</summary>
    private static async Task<HttpResult> RunHttpAsync(string name, string server, string? backend, double warmup, double duration)
    {
        int port = FreePort();
        string url = $"http://127.0.0.1:{port}/";
        using ChildProcess serverProcess = ChildProcess.StartSelf($"{name} server", inlineCompletions: false, backend, "serve", server, Text(port));
        await serverProcess.WaitForLineAsync("listening", s_startTimeout).ConfigureAwait(false);
        using (ChildProcess warm = ChildProcess.StartTool("wrk", $"-t{WrkThreads}", $"-c{WrkConnections}", $"-d{Math.Ceiling(warmup)}s", url))
        {
            await warm.ReadToEndAsync(s_startTimeout + TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
        }

        double cpu = serverProcess.CpuSeconds();
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        string output;
        using (ChildProcess wrk = ChildProcess.StartTool("wrk", $"-t{WrkThreads}", $"-c{WrkConnections}", $"-d{Math.Ceiling(duration)}s", "--latency", url))
        {
            output = await wrk.ReadToEndAsync(s_startTimeout + TimeSpan.FromSeconds(duration)).ConfigureAwait(false);
        }

        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        cpu = serverProcess.CpuSeconds() - cpu;
        await serverProcess.StopAsync(s_startTimeout).ConfigureAwait(false);

        WrkFigures figures = ParseWrk(output, name);
        return new HttpResult(name, figures.RequestsPerSecond, figures.P50Microseconds, figures.P99Microseconds, cpu / seconds, figures.SocketErrors, figures.Non2xx);
    }

    /// <summary>What one <c>wrk --latency</c> run printed: requests/s, p50 and p99 in µs, socket errors (connect, read,
    /// write and timeout together) and non-2xx responses.</summary>
    private static WrkFigures ParseWrk(string output, string name)
    {
        Match errors = SocketErrorsPattern().Match(output);
        long socketErrors = 0;
        for (int g = 1; errors.Success && g <= 4; g++)
        {
            socketErrors += long.Parse(errors.Groups[g].Value, CultureInfo.InvariantCulture);
        }

        Match non2xx = Non2xxPattern().Match(output);
        return new WrkFigures(double.Parse(Match(RequestsPerSecondPattern(), output, name), CultureInfo.InvariantCulture),
            WrkLatency(output, "50%", name), WrkLatency(output, "99%", name), socketErrors,
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    private static string Section(
        (Stack Server, Stack Client)[] ownClient,
        (Stack Server, Stack Client)[] sharedClient,
        Dictionary<(Stack Server, Stack Client, int Connections), EchoResult> echo,
        List<HttpResult> http,
        double warmup,
        double duration,
        TimeSpan took)
    {
        var s = new StringBuilder();
        s.Append(BeginMarker).Append('\n');
        s.Append("## Networking: Miniss beside .NET `Socket` and Kestrel\n\n");
        s.Append(CultureInfo.InvariantCulture, $"Written by `dotnet cake --target=BenchNet` (about {Math.Max(1, Math.Round(took.TotalMinutes)):0} min; Release build) from one run on {Machine()}. ");
        s.Append("Every server and every load generator runs in a process of its own on loopback, one case after the other, ");
        s.Append(CultureInfo.InvariantCulture, $"each warmed up for {warmup:0} s and then measured for {duration:0} s; all of them share the machine's cores. ");
        s.Append("Ratios compare figures of this run; above 1 Miniss is faster. CPU is the process's user + system time over the measured ");
        s.Append("wall time (/proc/PID/stat), in cores (2.00 = both cores busy).\n\n");
        s.Append("```sh\ndotnet tool restore && dotnet cake --target=BenchNet          # this section\n");
        s.Append("dotnet run -c Release --project bench/Miniss.NetBenchmarks -- run --warmup 5 --duration 10   # the same, without the build\n```\n\n");

        s.Append("### 64-byte echo ping-pong\n\n");
        s.Append("Each connection sends 64 bytes, waits until all 64 have come back, and repeats; latency is that round trip as the ");
        s.Append("client sees it. Servers: Miniss's `ShardServer` on every shard (SO_REUSEPORT, one handler per connection on its ");
        s.Append("shard), on io_uring and again on its epoll fallback (`MINISS_BACKEND=epoll`, server and client); .NET's `Socket` with an accept loop and one task per connection doing `ReceiveAsync`/`SendAsync` with ");
        s.Append(CultureInfo.InvariantCulture, $"`Memory<byte>`, with the default thread-pool completions, and again with `{InlineVariable}=1` ");
        s.Append("(completions run on the socket engine's event thread; set in the environment of that process only).\n\n");
        s.Append("Two ways to load them: each stack with its own client (Miniss's client on Miniss shards; .NET's on the thread ");
        s.Append("pool, with the same completion setting as its server), which compares whole stacks; and one shared client, ");
        s.Append(".NET `Socket` with default settings, against every server, which compares the servers alone.\n\n");
        foreach ((string title, (Stack Server, Stack Client)[] cases) in new[] { ("Each stack with its own client", ownClient), ("One shared client (.NET Socket) against each server", sharedClient) })
        {
            s.Append("**").Append(title).Append("**\n\n");
            s.Append("| connections | server | client | requests/s | p50 | p99 | server CPU | client CPU | Miniss ÷ this (requests/s) |\n");
            s.Append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
            foreach (int connections in s_echoConnections)
            {
                EchoResult miniss = echo[(cases[0].Server, cases[0].Client, connections)];
                foreach ((Stack server, Stack client) in cases)
                {
                    EchoResult r = echo[(server, client, connections)];
                    s.Append(CultureInfo.InvariantCulture,
                        $"| {connections} | {server.Name} | {client.Name} | {r.RequestsPerSecond:N0} | {Micro(r.P50Microseconds)} | {Micro(r.P99Microseconds)} | " +
                        $"{r.ServerCores:0.00} | {r.ClientCores:0.00} | {(server == s_miniss ? "" : $"{miniss.RequestsPerSecond / r.RequestsPerSecond:0.00}x")} |\n");
                }
            }

            s.Append('\n');
        }

        EchoResult own64 = echo[(s_miniss, s_miniss, 64)];
        s.Append(CultureInfo.InvariantCulture,
            $"At 64 connections, each stack with its own client, Miniss does {own64.RequestsPerSecond / echo[(s_dotNet, s_dotNet, 64)].RequestsPerSecond:0.00}x the requests/s of .NET `Socket` ");
        s.Append(CultureInfo.InvariantCulture,
            $"and {own64.RequestsPerSecond / echo[(s_dotNetInline, s_dotNetInline, 64)].RequestsPerSecond:0.00}x with inline completions; the goal is at least 1.5x. ");
        EchoResult epoll64 = echo[(s_minissEpoll, s_minissEpoll, 64)];
        s.Append(CultureInfo.InvariantCulture,
            $"On its epoll backend Miniss does {epoll64.RequestsPerSecond / echo[(s_dotNet, s_dotNet, 64)].RequestsPerSecond:0.00}x .NET `Socket` ");
        s.Append(CultureInfo.InvariantCulture,
            $"and {epoll64.RequestsPerSecond / echo[(s_dotNetInline, s_dotNetInline, 64)].RequestsPerSecond:0.00}x with inline completions (the fallback should be no slower).\n\n");

        s.Append("### HTTP plaintext under wrk\n\n");
        s.Append(CultureInfo.InvariantCulture, $"`wrk -t{WrkThreads} -c{WrkConnections} -d{Math.Ceiling(duration)}s --latency` against each server after a {Math.Ceiling(warmup)} s wrk warm-up. ");
        s.Append("Miniss serves the HTTP sample's own handler (`HelloServer` in samples/Miniss.Samples.Http); Kestrel a minimal app, ");
        s.Append("`WebApplication.CreateSlimBuilder` with logging off and one terminal handler writing the same 13-byte body with its ");
        s.Append("Content-Length (Kestrel adds a Date header). wrk runs on the same two cores.\n\n");
        s.Append("| server | requests/s | p50 | p99 | server CPU | requests per server CPU-second | socket errors | non-2xx | Miniss ÷ this (requests/s) |\n");
        s.Append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (HttpResult r in http)
        {
            s.Append(CultureInfo.InvariantCulture,
                $"| {r.Server} | {r.RequestsPerSecond:N0} | {Micro(r.P50Microseconds)} | {Micro(r.P99Microseconds)} | {r.ServerCores:0.00} | " +
                $"{r.RequestsPerSecond / r.ServerCores:N0} | {r.SocketErrors} | {r.Non2xx} | {(r == http[0] ? "" : $"{http[0].RequestsPerSecond / r.RequestsPerSecond:0.00}x")} |\n");
        }

        s.Append('\n').Append(EndMarker).Append('\n');
        return s.ToString();
    }

    /// <summary>Puts <paramref name="section"/> in place of the one between the markers, or at the end of the page.</summary>
    internal static string ReplaceSection(string page, string section) =>
        Benchmarking.DocumentSection.Replace(page, section, BeginMarker, EndMarker);

    private static double WrkLatency(string output, string percentile, string server)
    {
        Match match = Regex.Match(output, $@"^\s*{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            throw new InvalidDataException($"wrk printed no {percentile} latency for {server}:\n{output}");
        }

        double value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value, "ms" => value * 1e3, _ => value * 1e6 };
    }

    private static string Match(Regex pattern, string output, string server)
    {
        Match match = pattern.Match(output);
        return match.Success ? match.Groups[1].Value : throw new InvalidDataException($"unexpected wrk output for {server}:\n{output}");
    }

    [GeneratedRegex(@"^Requests/sec:\s+([\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecondPattern();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsPattern();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex Non2xxPattern();

    private static string Micro(double microseconds) => microseconds >= 1000
        ? (microseconds / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " ms"
        : microseconds.ToString("0", CultureInfo.InvariantCulture) + " µs";

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static double Option(string[] options, string name, double fallback)
    {
        int i = Array.IndexOf(options, name);
        return i >= 0 && i + 1 < options.Length ? double.Parse(options[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>A loopback port nothing listens on now (bound, then released for the server to take).</summary>
    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static string Machine()
    {
        string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        string kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim().Split('-')[0] : "?";
        return $"{cpu}, {Environment.ProcessorCount} logical cores, Linux {kernel}, {RuntimeInformation.FrameworkDescription}, {DateTime.UtcNow:yyyy-MM-dd}";
    }

    private static string RepositoryRoot()
    {
        string? directory = Directory.GetCurrentDirectory();
        while (directory is not null && !File.Exists(Path.Combine(directory, "Miniss.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("run the benchmark from inside the Miniss repository");
    }

    /// <summary>A stack under test: its name in the tables, the command of its child processes, whether .NET's inline
    /// socket completions are on, and the Miniss backend it runs on (<see langword="null"/> for .NET).</summary>
    private sealed record Stack(string Name, string Command, bool Inline, string? Backend = null);

    private sealed record EchoResult(double RequestsPerSecond, double P50Microseconds, double P99Microseconds, double ServerCores, double ClientCores);

    private sealed record WrkFigures(double RequestsPerSecond, double P50Microseconds, double P99Microseconds, long SocketErrors, long Non2xx);

    private sealed record HttpResult(string Server, double RequestsPerSecond, double P50Microseconds, double P99Microseconds, double ServerCores, long SocketErrors, long Non2xx);
}
