using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;
using Miniss.Net;
using Miniss.Samples.Http;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>
/// The HTTP sample's own handler (<see cref="HelloServer"/>) served on loopback to real HTTP clients, curl and wrk,
/// for a few seconds: right responses, keep-alive and HTTP/1.0 close, and afterwards no connection, pool buffer or
/// descriptor left behind. A missing client fails the tests (./test.sh installs both with apt-get).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
[NonParallelizable]
public sealed class HttpClientToolTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The first child process makes .NET set up its child-process signal handling, descriptors it keeps for
    /// good: start one before any test takes a descriptor baseline.</summary>
    [OneTimeSetUp]
    public static void StartOneChildProcess()
    {
        using Process process = Process.Start(new ProcessStartInfo("/bin/sh", "-c true") { UseShellExecute = false })!;
        process.WaitForExit();
    }

    [Test, CancelAfter(60_000)]
    public async Task Curl_fetches_several_urls_over_one_kept_alive_connection(CancellationToken token)
    {
        await using ServedSample served = await ServedSample.StartAsync(token);

        ToolResult curl = await RunToolAsync("curl", token,
            "--silent", "--show-error", "--max-time", "10", "--write-out", "\n%{http_code} %{num_connects}\n",
            served.Url("/"), served.Url("/plaintext"), served.Url("/a/b?c=d"));

        Assert.That(curl.ExitCode, Is.Zero, $"curl failed: {curl.Error}");
        // Each URL: the body, then its status and how many new connections curl opened for it (none after the first).
        Assert.That(curl.Output, Is.EqualTo("Hello, World!\n200 1\nHello, World!\n200 0\nHello, World!\n200 0\n"));
        Assert.That(served.Server.AcceptedConnections, Is.EqualTo(1), "the three requests shared one kept-alive connection");
        await served.AssertNothingLeftAsync(token);
        Assert.That(served.Server.FaultedConnections, Is.Zero, "connections whose handler failed (curl closes cleanly)");
    }

    [Test, CancelAfter(60_000)]
    public async Task Curl_over_http_1_0_gets_one_connection_per_request_and_each_is_closed(CancellationToken token)
    {
        await using ServedSample served = await ServedSample.StartAsync(token);

        ToolResult curl = await RunToolAsync("curl", token,
            "--http1.0", "--silent", "--show-error", "--max-time", "10", "--write-out", "\n%{http_code} %{num_connects}\n",
            served.Url("/"), served.Url("/again"));

        Assert.That(curl.ExitCode, Is.Zero, $"curl failed: {curl.Error}");
        Assert.That(curl.Output, Is.EqualTo("Hello, World!\n200 1\nHello, World!\n200 1\n"));
        Assert.That(served.Server.AcceptedConnections, Is.EqualTo(2), "HTTP/1.0 closes the connection after each response");
        await served.AssertNothingLeftAsync(token);
        Assert.That(served.Server.FaultedConnections, Is.Zero, "connections whose handler failed (curl closes cleanly)");
    }

    [Test, CancelAfter(60_000)]
    public async Task Curl_sees_the_exact_response_head_and_body(CancellationToken token)
    {
        await using ServedSample served = await ServedSample.StartAsync(token);

        ToolResult curl = await RunToolAsync("curl", token, "--silent", "--show-error", "--max-time", "10", "--include", served.Url("/"));

        Assert.That(curl.ExitCode, Is.Zero, $"curl failed: {curl.Error}");
        Assert.That(curl.Output, Is.EqualTo(System.Text.Encoding.ASCII.GetString(HelloServer.Response.Span)));
        await served.AssertNothingLeftAsync(token);
        Assert.That(served.Server.FaultedConnections, Is.Zero, "connections whose handler failed (curl closes cleanly)");
    }

    [Test, CancelAfter(90_000)]
    public async Task Wrk_for_two_seconds_gets_only_right_answers_and_no_socket_error(CancellationToken token)
    {
        await using ServedSample served = await ServedSample.StartAsync(token);
        string script = Path.Combine(Path.GetTempPath(), $"miniss-wrk-check-{Environment.ProcessId}.lua");
        await File.WriteAllTextAsync(script, WrkCheckScript, token);
        try
        {
            ToolResult wrk = await RunToolAsync("wrk", token,
                "--threads", "2", "--connections", "32", "--duration", "2s", "--timeout", "2s", "--script", script, served.Url("/"));

            Assert.That(wrk.ExitCode, Is.Zero, $"wrk failed: {wrk.Error}\n{wrk.Output}");
            Match summary = Regex.Match(wrk.Output,
                @"^miniss-check requests=(\d+) connect=(\d+) read=(\d+) write=(\d+) status=(\d+) timeout=(\d+) wrong=(\d+)$", RegexOptions.Multiline);
            Assert.That(summary.Success, Is.True, $"wrk printed no summary line of the check script:\n{wrk.Output}");
            long Field(int group) => long.Parse(summary.Groups[group].Value, CultureInfo.InvariantCulture);
            Assert.Multiple(() =>
            {
                Assert.That(Field(1), Is.Positive, "requests completed");
                Assert.That(Field(2), Is.Zero, "connect errors");
                Assert.That(Field(3), Is.Zero, "read errors");
                Assert.That(Field(4), Is.Zero, "write errors");
                Assert.That(Field(5), Is.Zero, "responses with an error status");
                Assert.That(Field(6), Is.Zero, "timeouts");
                Assert.That(Field(7), Is.Zero, "responses other than 200 \"Hello, World!\"");
            });
            // wrk opens its 32 connections (and, with a script, one more of its own before the run), not one per request.
            Assert.That(served.Server.AcceptedConnections, Is.InRange(32, 33), "wrk's connections were kept alive");

            // No assertion on FaultedConnections here: when its time is up wrk closes its sockets with requests still
            // in flight, so some handlers end with a reset, as they should.
        }
        finally
        {
            File.Delete(script);
        }

        await served.AssertNothingLeftAsync(token);
    }

    // Counts, in every wrk thread, the responses that are not exactly 200 "Hello, World!", and prints one line with
    // wrk's own counters and that count when the run is done.
    private const string WrkCheckScript = """
        wrong = 0
        local threads = {}

        function setup(thread)
          table.insert(threads, thread)
        end

        function response(status, headers, body)
          if status ~= 200 or body ~= "Hello, World!" then
            wrong = wrong + 1
          end
        end

        function done(summary, latency, requests)
          local total = 0
          for _, thread in ipairs(threads) do
            total = total + thread:get("wrong")
          end
          local e = summary.errors
          io.write(string.format("miniss-check requests=%d connect=%d read=%d write=%d status=%d timeout=%d wrong=%d\n",
            summary.requests, e.connect, e.read, e.write, e.status, e.timeout, total))
        end
        """;

    private sealed record ToolResult(int ExitCode, string Output, string Error);

    /// <summary>Runs a client program to its end within <see cref="ToolTimeout"/> (killed and failed beyond it).</summary>
    private static async Task<ToolResult> RunToolAsync(string tool, CancellationToken token, params string[] arguments)
    {
        string path = FindOnPath(tool) ?? throw new AssertionException(
            $"'{tool}' is not installed (not found on PATH). These tests drive the HTTP sample with real clients; " +
            "./test.sh installs curl and wrk with apt-get, or run: apt-get install curl wrk");
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new AssertionException($"could not start {path}");
        Task<string> output = process.StandardOutput.ReadToEndAsync(token);
        Task<string> error = process.StandardError.ReadToEndAsync(token);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(token);
        bounded.CancelAfter(ToolTimeout);
        try
        {
            await process.WaitForExitAsync(bounded.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail($"{tool} did not finish within {ToolTimeout.TotalSeconds:0} s and was killed");
        }

        return new ToolResult(process.ExitCode, await output, await error);
    }

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, tool))
            .FirstOrDefault(File.Exists);

    /// <summary>The sample's handler served by a two-shard runtime on a loopback port, with the baselines to compare
    /// against once the clients are gone: descriptors before the server started and with it listening, and every
    /// shard's pool buffers in use.</summary>
    private sealed class ServedSample : IAsyncDisposable
    {
        private readonly RuntimeScope _scope;
        private readonly int _descriptorsBefore;
        private readonly int _descriptorsListening;
        private readonly long[] _poolBytesInUse;

        private ServedSample(RuntimeScope scope, ShardServer server, int descriptorsBefore, int descriptorsListening, long[] poolBytesInUse)
        {
            _scope = scope;
            Server = server;
            _descriptorsBefore = descriptorsBefore;
            _descriptorsListening = descriptorsListening;
            _poolBytesInUse = poolBytesInUse;
        }

        public ShardServer Server { get; }

        public static async Task<ServedSample> StartAsync(CancellationToken token)
        {
            RuntimeScope scope = RuntimeScope.Start(detectStalls: false);
            try
            {
                int before = OpenDescriptorCount();
                ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, HelloServer.HandleAsync).Within(token);
                long[] pool = await PoolBytesInUseAsync(scope.Runtime, token);
                return new ServedSample(scope, server, before, OpenDescriptorCount(), pool);
            }
            catch
            {
                await scope.DisposeAsync();
                throw;
            }
        }

        public string Url(string path) => $"http://127.0.0.1:{((IPEndPoint)Server.LocalEndPoint).Port}{path}";

        /// <summary>After the clients exited: no connection served, every shard's pool as before, the process's
        /// descriptors as with the server listening, and after stopping the server as before it started.</summary>
        public async Task AssertNothingLeftAsync(CancellationToken token)
        {
            await SettlesAtAsync(() => Task.FromResult(Server.ActiveConnections), 0, "connections still served by the server", token);
            await SettlesAtAsync(async () => string.Join(", ", await PoolBytesInUseAsync(_scope.Runtime, token)),
                string.Join(", ", _poolBytesInUse), "pool bytes in use on each shard (baseline before the clients ran)", token);
            await SettlesAtAsync(() => Task.FromResult(OpenDescriptorCount()), _descriptorsListening, "open descriptors with the server listening", token);
            await Server.StopAsync().Within(token);
            await SettlesAtAsync(() => Task.FromResult(OpenDescriptorCount()), _descriptorsBefore, "open descriptors after the server stopped", token);
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await Server.StopAsync().AsTask().WaitAsync(SettleTimeout);
            }
            finally
            {
                await _scope.DisposeAsync();
            }
        }

        private static Task<long[]> PoolBytesInUseAsync(MinissRuntime runtime, CancellationToken token) =>
            runtime.InvokeOnAll(() => Shard.Current!.Buffers.Stats.AllocatedBytes).Within(token);

        /// <summary>Polls <paramref name="read"/> until it gives <paramref name="expected"/> (connections and buffers
        /// are released asynchronously), or fails with the last value after <see cref="SettleTimeout"/>.</summary>
        private static async Task SettlesAtAsync<T>(Func<Task<T>> read, T expected, string what, CancellationToken token)
        {
            DateTime deadline = DateTime.UtcNow + SettleTimeout;
            T actual = await read();
            while (!EqualityComparer<T>.Default.Equals(actual, expected) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10, token);
                actual = await read();
            }

            Assert.That(actual, Is.EqualTo(expected), what);
        }
    }
}
