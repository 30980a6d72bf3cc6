using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;

namespace Miniss.NetBenchmarks;

/// <summary>
/// The shared-core suite: what a Miniss process costs the other programs on its cores. (a) One echo connection between
/// two Miniss processes, a server and a client of one shard each, both confined to CPU 0 (<c>taskset -c 0</c>), on
/// io_uring and on epoll, and again with the client on CPU 1 for the dedicated-core case. (b) wrk's p99 against the
/// Miniss HTTP sample (io_uring and epoll) and minimal Kestrel, with the same wrk settings, all on the machine's cores
/// unpinned. Cases run in interleaved rounds (every case once per round) so that the machine's drift weighs on each
/// alike; the table gives each round and the median. Rewrites the section of docs/benchmarks.md between
/// <see cref="SharedBeginMarker"/> and <see cref="SharedEndMarker"/>.
/// </summary>
internal static partial class Runner
{
    /// <summary>Opens the section of docs/benchmarks.md the shared-core suite writes.</summary>
    public const string SharedBeginMarker = "<!-- shared-bench:begin -->";

    /// <summary>Closes that section.</summary>
    public const string SharedEndMarker = "<!-- shared-bench:end -->";

    private static readonly SharedEchoCase[] s_sharedEcho =
    [
        new("io_uring", "same CPU", "0"),
        new("epoll", "same CPU", "0"),
        new("io_uring", "own CPUs", "1"),
        new("epoll", "own CPUs", "1"),
    ];

    private static readonly (string Name, string Server, string? Backend)[] s_sharedHttp =
    [
        ("Miniss (io_uring)", "http-miniss", "io_uring"),
        ("Miniss (epoll)", "http-miniss", "epoll"),
        ("Kestrel", "http-kestrel", null),
    ];

    private static async Task<int> RunSharedAsync(double warmup, double duration, int rounds, bool writeDoc)
    {
        if (Environment.ProcessorCount < 2)
        {
            Console.Error.WriteLine("the shared-core suite needs two CPUs: its dedicated-core case puts the client on CPU 1");
            return 1;
        }

        DateTime started = DateTime.UtcNow;
        string loadBefore = LoadAverage();
        var echo = new List<SharedEchoResult>();
        var http = new List<SharedHttpResult>();
        for (int round = 1; round <= rounds; round++)
        {
            foreach (SharedEchoCase c in s_sharedEcho)
            {
                SharedEchoResult r = await RunSharedEchoAsync(c, round, warmup, duration).ConfigureAwait(false);
                echo.Add(r);
                Console.WriteLine($"shared round {round}: echo, 1 connection, {c.Placement}, {c.Backend}: {r.RequestsPerSecond:N0} requests/s, p99 {r.P99Microseconds:0} µs, " +
                    $"server CPU {r.ServerCores:0.00}, client CPU {r.ClientCores:0.00}");
            }

            foreach ((string name, string server, string? backend) in s_sharedHttp)
            {
                HttpResult r = await RunHttpAsync(name, server, backend, warmup, duration).ConfigureAwait(false);
                http.Add(new SharedHttpResult(round, r));
                Console.WriteLine($"shared round {round}: http {name}: {r.RequestsPerSecond:N0} requests/s, p50 {r.P50Microseconds:0} µs, p99 {r.P99Microseconds:0} µs, " +
                    $"server CPU {r.ServerCores:0.00}, socket errors {r.SocketErrors}, non-2xx {r.Non2xx}");
            }
        }

        string section = SharedSection(echo, http, warmup, duration, rounds, DateTime.UtcNow - started, loadBefore, LoadAverage());
        Console.WriteLine();
        Console.WriteLine(section);
        string root = RepositoryRoot();
        string artifacts = Path.Combine(root, "artifacts", "net-bench");
        Directory.CreateDirectory(artifacts);
        await File.WriteAllTextAsync(Path.Combine(artifacts, "shared.json"), JsonSerializer.Serialize(new { echo, http }, s_indented)).ConfigureAwait(false);
        if (writeDoc)
        {
            string path = Path.Combine(root, "docs", "benchmarks.md");
            string page = File.Exists(path) ? await File.ReadAllTextAsync(path).ConfigureAwait(false) : string.Empty;
            await File.WriteAllTextAsync(path, Benchmarking.DocumentSection.Replace(page, section, SharedBeginMarker, SharedEndMarker)).ConfigureAwait(false);
            Console.WriteLine("updated the shared-core section of docs/benchmarks.md");
        }

        return 0;
    }

    /// <summary>One echo case: a Miniss server on CPU 0 and a Miniss client with one connection on
    /// <see cref="SharedEchoCase.ClientCpu"/>, both on the case's backend.</summary>
    private static async Task<SharedEchoResult> RunSharedEchoAsync(SharedEchoCase c, int round, double warmup, double duration)
    {
        int port = FreePort();
        using ChildProcess server = ChildProcess.StartSelfOn(ServerCpu, $"Miniss ({c.Backend}) echo server on CPU {ServerCpu}", c.Backend, "serve", "echo-miniss", Text(port));
        await server.WaitForLineAsync("listening", s_startTimeout).ConfigureAwait(false);
        using ChildProcess client = ChildProcess.StartSelfOn(c.ClientCpu, $"Miniss ({c.Backend}) echo client on CPU {c.ClientCpu}", c.Backend,
            "load", "echo-miniss", Text(port), "1", Text(warmup), Text(duration));
        await client.WaitForLineAsync("measuring", s_startTimeout + TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
        double serverCpu = server.CpuSeconds();
        string line = await client.WaitForLineAsync("result ", s_startTimeout + TimeSpan.FromSeconds(duration)).ConfigureAwait(false);
        serverCpu = server.CpuSeconds() - serverCpu;
        LoadResult load = JsonSerializer.Deserialize<LoadResult>(line["result ".Length..]) ?? throw new InvalidDataException(line);
        await client.ReadToEndAsync(s_startTimeout).ConfigureAwait(false);
        await server.StopAsync(s_startTimeout).ConfigureAwait(false);
        return new SharedEchoResult(round, c.Backend, c.Placement, load.Requests / load.Seconds, load.P50Microseconds, load.P99Microseconds,
            serverCpu / load.Seconds, load.CpuSeconds / load.Seconds);
    }

    private static string SharedSection(List<SharedEchoResult> echo, List<SharedHttpResult> http, double warmup, double duration, int rounds, TimeSpan took,
        string loadBefore, string loadAfter)
    {
        var s = new StringBuilder();
        s.Append(SharedBeginMarker).Append('\n');
        s.Append("## Shared cores: two Miniss processes on one CPU, and p99 beside Kestrel\n\n");
        s.Append(CultureInfo.InvariantCulture, $"Written by `dotnet cake --target=BenchNet --suite=shared` (about {Math.Max(1, Math.Round(took.TotalMinutes)):0} min) from one run on {Machine()}. ");
        s.Append("Echo: one connection between two Miniss processes, the benchmark's echo server (`ShardServer`) and its client, each with one shard, ");
        s.Append("both on CPU 0 (`taskset -c 0`: the shared-core case) and then with the client on CPU 1 (each its own core), on io_uring and on epoll ");
        s.Append("(`MINISS_BACKEND`, both processes); each connection sends 64 bytes and waits for all 64 before the next. ");
        s.Append(CultureInfo.InvariantCulture, $"HTTP: `wrk -t{WrkThreads} -c{WrkConnections} -d{Math.Ceiling(duration)}s --latency` after a {Math.Ceiling(warmup)} s wrk warm-up against the HTTP sample's `HelloServer` on io_uring and epoll (a shard per core) ");
        s.Append("and a minimal Kestrel app, nothing pinned: wrk, the server and the machine's other work share both cores. ");
        s.Append(CultureInfo.InvariantCulture, $"Every case runs once per round, {rounds} round{(rounds == 1 ? "" : "s")}, interleaved; each case is warmed up for {warmup:0} s and measured for {duration:0} s; the median is over the rounds. ");
        s.Append("CPU is a process's user + system time over the measured wall time, in cores. ");
        s.Append(CultureInfo.InvariantCulture, $"Load average (1, 5, 15 min): {loadBefore} before, {loadAfter} after.\n\n");
        s.Append("```sh\ndotnet tool restore && dotnet cake --target=BenchNet --suite=shared          # this section (--short: one round of 1 s + 3 s)\n");
        s.Append(CultureInfo.InvariantCulture, $"dotnet run -c Release --project bench/Miniss.NetBenchmarks -- run --suite shared --warmup {warmup:0} --duration {duration:0} --rounds {rounds}   # the same, once built\n```\n\n");

        s.Append("| echo, 1 connection | backend | requests/s (median) | each round | p50 | p99 | server CPU | client CPU |\n");
        s.Append("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        var medians = new Dictionary<(string Placement, string Backend), double>();
        foreach (SharedEchoCase c in s_sharedEcho)
        {
            List<SharedEchoResult> runs = echo.FindAll(r => r.Backend == c.Backend && r.Placement == c.Placement);
            SharedEchoResult mid = MedianBy(runs, r => r.RequestsPerSecond);
            medians[(c.Placement, c.Backend)] = mid.RequestsPerSecond;
            s.Append(CultureInfo.InvariantCulture,
                $"| {(c.Placement == "same CPU" ? "server and client on CPU 0" : "server on CPU 0, client on CPU 1")} | {c.Backend} | {mid.RequestsPerSecond:N0} | " +
                $"{string.Join(", ", runs.ConvertAll(r => r.RequestsPerSecond.ToString("N0", CultureInfo.InvariantCulture)))} | {Micro(mid.P50Microseconds)} | {Micro(mid.P99Microseconds)} | {mid.ServerCores:0.00} | {mid.ClientCores:0.00} |\n");
        }

        s.Append("\n| HTTP under wrk | requests/s (median) | p99 (median) | p99 each round | p50 (median) | server CPU | socket errors | non-2xx |\n");
        s.Append("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        var p99 = new Dictionary<string, double>();
        foreach ((string name, _, _) in s_sharedHttp)
        {
            List<HttpResult> runs = http.FindAll(r => r.Result.Server == name).ConvertAll(r => r.Result);
            double requests = Median(runs.ConvertAll(r => r.RequestsPerSecond));
            p99[name] = Median(runs.ConvertAll(r => r.P99Microseconds));
            long errors = 0, non2xx = 0;
            foreach (HttpResult r in runs)
            {
                errors += r.SocketErrors;
                non2xx += r.Non2xx;
            }

            s.Append(CultureInfo.InvariantCulture,
                $"| {name} | {requests:N0} | {Micro(p99[name])} | {string.Join(", ", runs.ConvertAll(r => Micro(r.P99Microseconds)))} | " +
                $"{Micro(Median(runs.ConvertAll(r => r.P50Microseconds)))} | {Median(runs.ConvertAll(r => r.ServerCores)):0.00} | {errors} | {non2xx} |\n");
        }

        double shared = medians[("same CPU", "io_uring")] / medians[("same CPU", "epoll")];
        double dedicated = medians[("own CPUs", "io_uring")] / medians[("own CPUs", "epoll")];
        s.Append(CultureInfo.InvariantCulture,
            $"\nGoals of the performance issue, on the medians of this run: one connection on one CPU, io_uring ÷ epoll = {shared:0.00}x (goal: at least 1.00x, {(shared >= 1 ? "met" : "not met")}); ");
        s.Append(CultureInfo.InvariantCulture, $"on their own CPUs {dedicated:0.00}x. ");
        double kestrel = p99["Kestrel"];
        double miniss = p99[s_sharedHttp[0].Name];
        s.Append(CultureInfo.InvariantCulture,
            $"p99 under wrk: Miniss (io_uring) {Micro(miniss)} against Kestrel's {Micro(kestrel)} (goal: no worse, {(miniss <= kestrel ? "met" : "not met")}).");
        if (double.TryParse(loadBefore.Split(',')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double load) && load > Environment.ProcessorCount)
        {
            s.Append(CultureInfo.InvariantCulture,
                $" The load average before the run ({load:0.0}) was above the {Environment.ProcessorCount} CPUs: other work took most of the cores, so this run says little about the goals; rerun on a quiet machine.");
        }

        s.Append('\n');
        s.Append('\n').Append(SharedEndMarker).Append('\n');
        return s.ToString();
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    /// <summary>The run whose <paramref name="key"/> is the median (the lower middle one of an even count), so that its
    /// other figures come from the same run.</summary>
    private static T MedianBy<T>(List<T> runs, Func<T, double> key)
    {
        var sorted = new List<T>(runs);
        sorted.Sort((a, b) => key(a).CompareTo(key(b)));
        return sorted[(sorted.Count - 1) / 2];
    }

    /// <summary>An echo case of the shared-core suite: the backend of both processes, where they run, and the client's CPU
    /// (the server is always on CPU 0).</summary>
    private sealed record SharedEchoCase(string Backend, string Placement, string ClientCpu);

    private sealed record SharedEchoResult(int Round, string Backend, string Placement, double RequestsPerSecond, double P50Microseconds, double P99Microseconds,
        double ServerCores, double ClientCores);

    private sealed record SharedHttpResult(int Round, HttpResult Result);
}
