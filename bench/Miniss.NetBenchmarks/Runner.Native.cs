using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;

namespace Miniss.NetBenchmarks;

/// <summary>
/// The native suite: one server core against tokio and C. Every server runs on CPU 0 alone (<c>taskset -c 0</c>; Miniss
/// then starts one shard), every load generator on CPU 1 alone: the C epoll echo client of bench/native/epoll_net.c,
/// and wrk with one thread. Servers: Miniss on io_uring and on epoll, tokio (a current-thread runtime per core with
/// SO_REUSEPORT, and the multi-thread runtime; bench/native/tokio-servers), the C epoll server of epoll_net.c, and .NET
/// (Socket for echo, Kestrel for HTTP). Rewrites the section of docs/benchmarks.md between <see cref="NativeBeginMarker"/>
/// and <see cref="NativeEndMarker"/>.
/// </summary>
internal static partial class Runner
{
    /// <summary>Opens the section of docs/benchmarks.md the native suite writes.</summary>
    public const string NativeBeginMarker = "<!-- native-bench:begin -->";

    /// <summary>Closes that section.</summary>
    public const string NativeEndMarker = "<!-- native-bench:end -->";

    private const string ServerCpu = "0";
    private const string ClientCpu = "1";

    private static readonly NativeServer[] s_nativeServers =
    [
        new("Miniss (io_uring)", NativeServerKind.Miniss, "io_uring"),
        new("Miniss (epoll)", NativeServerKind.Miniss, "epoll"),
        new("tokio current-thread", NativeServerKind.Tokio, "current"),
        new("tokio multi-thread", NativeServerKind.Tokio, "multi"),
        new("C epoll", NativeServerKind.C, null),
        new(".NET (Socket / Kestrel)", NativeServerKind.DotNet, null),
    ];

    private static async Task<int> RunNativeAsync(double warmup, double duration, bool writeDoc)
    {
        if (Environment.ProcessorCount < 2)
        {
            Console.Error.WriteLine("the native suite needs two CPUs: one for the server, one for the load generator");
            return 1;
        }

        string root = RepositoryRoot();
        string binaries = Path.Combine(root, "artifacts", "bench", "native");
        string epollNet = Path.Combine(binaries, "epoll_net");
        string tokio = Path.Combine(binaries, "miniss-bench-tokio");
        foreach (string binary in new[] { epollNet, tokio })
        {
            if (!File.Exists(binary))
            {
                Console.Error.WriteLine($"{Path.GetFileName(binary)} is not built: run `dotnet cake --target=BenchNet --suite=native`, which builds it into artifacts/bench/native");
                return 1;
            }
        }

        DateTime started = DateTime.UtcNow;
        string loadBefore = LoadAverage();
        var results = new List<NativeResult>();
        foreach (int connections in s_echoConnections)
        {
            foreach (NativeServer server in s_nativeServers)
            {
                NativeResult r = await RunNativeEchoAsync(server, connections, epollNet, tokio, warmup, duration).ConfigureAwait(false);
                results.Add(r);
                Console.WriteLine($"native echo {connections} on {server.Name}: {r.RequestsPerSecond:N0} requests/s, p50 {r.P50Microseconds:0} µs, p99 {r.P99Microseconds:0} µs, server CPU {r.ServerCores:0.00}");
            }
        }

        foreach (NativeServer server in s_nativeServers)
        {
            NativeResult r = await RunNativeHttpAsync(server, epollNet, tokio, warmup, duration).ConfigureAwait(false);
            results.Add(r);
            Console.WriteLine($"native http on {server.Name}: {r.RequestsPerSecond:N0} requests/s, p50 {r.P50Microseconds:0} µs, p99 {r.P99Microseconds:0} µs, server CPU {r.ServerCores:0.00}");
        }

        string section = NativeSection(results, warmup, duration, DateTime.UtcNow - started, loadBefore, LoadAverage());
        Console.WriteLine();
        Console.WriteLine(section);
        string artifacts = Path.Combine(root, "artifacts", "net-bench");
        Directory.CreateDirectory(artifacts);
        await File.WriteAllTextAsync(Path.Combine(artifacts, "native.json"), JsonSerializer.Serialize(results, s_indented)).ConfigureAwait(false);
        if (writeDoc)
        {
            string path = Path.Combine(root, "docs", "benchmarks.md");
            string page = File.Exists(path) ? await File.ReadAllTextAsync(path).ConfigureAwait(false) : string.Empty;
            await File.WriteAllTextAsync(path, Benchmarking.DocumentSection.Replace(page, section, NativeBeginMarker, NativeEndMarker)).ConfigureAwait(false);
            Console.WriteLine("updated the native section of docs/benchmarks.md");
        }

        return 0;
    }

    /// <summary>Starts <paramref name="server"/> on the server CPU for <paramref name="protocol"/> (echo or http).</summary>
    private static ChildProcess StartNativeServer(NativeServer server, string protocol, int port, string epollNet, string tokio) => server.Kind switch
    {
        NativeServerKind.Miniss => ChildProcess.StartSelfOn(ServerCpu, $"{server.Name} {protocol} server", server.Flavor, "serve", $"{protocol}-miniss", Text(port)),
        NativeServerKind.DotNet => ChildProcess.StartSelfOn(ServerCpu, $"{server.Name} {protocol} server", null, "serve", protocol == "echo" ? "echo-dotnet" : "http-kestrel", Text(port)),
        NativeServerKind.Tokio => ChildProcess.StartTool("taskset", "-c", ServerCpu, tokio, protocol, Text(port), server.Flavor!, "1"),
        _ => ChildProcess.StartTool("taskset", "-c", ServerCpu, epollNet, "server", protocol, Text(port), "1"),
    };

    private static async Task<NativeResult> RunNativeEchoAsync(NativeServer server, int connections, string epollNet, string tokio, double warmup, double duration)
    {
        int port = FreePort();
        using ChildProcess serverProcess = StartNativeServer(server, "echo", port, epollNet, tokio);
        await serverProcess.WaitForLineAsync("listening", s_startTimeout).ConfigureAwait(false);
        using ChildProcess client = ChildProcess.StartTool("taskset", "-c", ClientCpu, epollNet, "client", Text(port), Text(connections), Text(warmup), Text(duration));
        await client.WaitForLineAsync("measuring", s_startTimeout + TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
        double serverCpu = serverProcess.CpuSeconds();
        string line = await client.WaitForLineAsync("result ", s_startTimeout + TimeSpan.FromSeconds(duration)).ConfigureAwait(false);
        serverCpu = serverProcess.CpuSeconds() - serverCpu;
        LoadResult load = JsonSerializer.Deserialize<LoadResult>(line["result ".Length..]) ?? throw new InvalidDataException(line);
        await client.ReadToEndAsync(s_startTimeout).ConfigureAwait(false);
        await serverProcess.StopAsync(s_startTimeout).ConfigureAwait(false);
        return new NativeResult($"echo, {connections} connection{(connections == 1 ? "" : "s")}", server.Name, load.Requests / load.Seconds,
            load.P50Microseconds, load.P99Microseconds, serverCpu / load.Seconds, 0, 0);
    }

    private static async Task<NativeResult> RunNativeHttpAsync(NativeServer server, string epollNet, string tokio, double warmup, double duration)
    {
        int port = FreePort();
        string url = $"http://127.0.0.1:{port}/";
        using ChildProcess serverProcess = StartNativeServer(server, "http", port, epollNet, tokio);
        await serverProcess.WaitForLineAsync("listening", s_startTimeout).ConfigureAwait(false);
        using (ChildProcess warm = ChildProcess.StartTool("taskset", "-c", ClientCpu, "wrk", "-t1", $"-c{WrkConnections}", $"-d{Math.Ceiling(warmup)}s", url))
        {
            await warm.ReadToEndAsync(s_startTimeout + TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
        }

        double cpu = serverProcess.CpuSeconds();
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        string output;
        using (ChildProcess wrk = ChildProcess.StartTool("taskset", "-c", ClientCpu, "wrk", "-t1", $"-c{WrkConnections}", $"-d{Math.Ceiling(duration)}s", "--latency", url))
        {
            output = await wrk.ReadToEndAsync(s_startTimeout + TimeSpan.FromSeconds(duration)).ConfigureAwait(false);
        }

        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        cpu = serverProcess.CpuSeconds() - cpu;
        await serverProcess.StopAsync(s_startTimeout).ConfigureAwait(false);
        string name = $"http on {server.Name}";
        WrkFigures figures = ParseWrk(output, name);
        return new NativeResult("HTTP plaintext, 64 connections", server.Name, figures.RequestsPerSecond, figures.P50Microseconds, figures.P99Microseconds,
            cpu / seconds, figures.SocketErrors, figures.Non2xx);
    }

    private static string NativeSection(List<NativeResult> results, double warmup, double duration, TimeSpan took, string loadBefore, string loadAfter)
    {
        var s = new StringBuilder();
        s.Append(NativeBeginMarker).Append('\n');
        s.Append("## One server core: Miniss beside tokio, C epoll and .NET\n\n");
        s.Append(CultureInfo.InvariantCulture, $"Written by `dotnet cake --target=BenchNet --suite=native` (about {Math.Max(1, Math.Round(took.TotalMinutes)):0} min) from one run on {Machine()}. ");
        s.Append("Every server runs alone on CPU 0 (`taskset -c 0`: Miniss starts one shard, tokio one thread, C one thread) and every load generator alone on CPU 1, ");
        s.Append("so the figures are per server core. Echo: the C epoll client of bench/native/epoll_net.c (each connection sends 64 bytes, waits for all 64, repeats; ");
        s.Append("latency is that round trip, in 1 µs buckets). HTTP: `wrk -t1 -c64 --latency` against a 13-byte \"Hello, World!\" (no pipelining). ");
        s.Append("Servers: Miniss's benchmark servers (`ShardServer`; the HTTP sample's `HelloServer`) on io_uring and epoll; tokio 1.x (Debian's packaged crates) as ");
        s.Append("a current-thread runtime per core with its own SO_REUSEPORT listener and as the multi-thread runtime with one worker, one task per connection, ");
        s.Append("`read`/`write_all` (bench/native/tokio-servers); the C server of epoll_net.c (level-triggered epoll, SO_REUSEPORT listener per thread); .NET Socket ");
        s.Append("(echo) and minimal Kestrel (HTTP), which use the thread pool on that one CPU. ");
        s.Append(CultureInfo.InvariantCulture, $"Each case is warmed up for {warmup:0} s and measured for {duration:0} s; server CPU is its process's user + system time over the measured wall time. ");
        s.Append(CultureInfo.InvariantCulture, $"Load average (1, 5, 15 min): {loadBefore} before, {loadAfter} after.\n\n");
        s.Append("```sh\ndotnet tool restore && dotnet cake --target=BenchNet --suite=native          # this section, with the C and tokio builds\n");
        s.Append(CultureInfo.InvariantCulture, $"dotnet run -c Release --project bench/Miniss.NetBenchmarks -- run --suite native --warmup {warmup:0} --duration {duration:0}   # the same, once built\n```\n\n");
        s.Append("| test | server | requests/s | p50 | p99 | server CPU | Miniss (io_uring) ÷ this |\n");
        s.Append("| --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (NativeResult r in results)
        {
            NativeResult miniss = results.Find(x => x.Test == r.Test && x.Server == s_nativeServers[0].Name)!;
            string errors = r.SocketErrors + r.Non2xx > 0 ? $" ({r.SocketErrors} socket errors, {r.Non2xx} non-2xx)" : "";
            s.Append(CultureInfo.InvariantCulture,
                $"| {r.Test} | {r.Server} | {r.RequestsPerSecond:N0}{errors} | {Micro(r.P50Microseconds)} | {Micro(r.P99Microseconds)} | {r.ServerCores:0.00} | " +
                $"{(r.Server == s_nativeServers[0].Name ? "" : $"{miniss.RequestsPerSecond / r.RequestsPerSecond:0.00}x")} |\n");
        }

        s.Append('\n').Append(NativeEndMarker).Append('\n');
        return s.ToString();
    }

    private enum NativeServerKind
    {
        Miniss,
        Tokio,
        C,
        DotNet,
    }

    /// <summary>A server of the native suite: its name in the table, what it is, and its flavour (the Miniss backend,
    /// or the tokio runtime: <c>current</c> or <c>multi</c>).</summary>
    private sealed record NativeServer(string Name, NativeServerKind Kind, string? Flavor);

    private sealed record NativeResult(string Test, string Server, double RequestsPerSecond, double P50Microseconds, double P99Microseconds,
        double ServerCores, long SocketErrors, long Non2xx);
}
