using Miniss.IO;
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>A Miniss server out of descriptors pauses accepting, keeps serving what it holds, and accepts again by
/// itself once descriptors return: the echo sample in a child process under a lowered <c>RLIMIT_NOFILE</c>.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
[NonParallelizable]
public sealed class ExhaustionTests(IoBackendKind backend) : BackendFixture(backend)
{
    // The echo sample runs on the Generic Host, whose assemblies hold about 60 descriptors before the first accept;
    // Extra clients still run it out of descriptors at this limit.
    private const int DescriptorLimit = 256;
    private const int Established = 8;
    private const int Extra = 200;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Test, CancelAfter(180_000)]
    public async Task An_echo_server_out_of_descriptors_keeps_serving_and_accepts_again_once_they_return(CancellationToken token)
    {
        int port = UnusedLoopbackEndPoint().Port;
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        // A connection limit far above the descriptors, so that accepting really runs into EMFILE.
        await using EchoProcess server = await EchoProcess.StartAsync(Backend, port, DescriptorLimit, token, maxConnections: 100_000);
        var established = new List<Socket>();
        var extra = new List<Socket>();
        try
        {
            for (int i = 0; i < Established; i++)
            {
                established.Add(await ConnectDotNetAsync(endPoint, token));
                await EchoesAsync(established[i], i, token);
            }

            // More clients than the server has descriptors left: it accepts until EMFILE, the rest wait in its backlog.
            for (int i = 0; i < Extra; i++)
            {
                extra.Add(await ConnectDotNetAsync(endPoint, token));
            }

            await server.WaitForErrorLineAsync("warn: ", "accepting connections on", token);
            Assert.That(server.HasExited, Is.False, $"the server died out of descriptors:\n{server.Output}");
            for (int i = 0; i < established.Count; i++)
            {
                await EchoesAsync(established[i], 100 + i, token);
            }

            foreach (Socket client in extra)
            {
                client.Dispose();
            }

            extra.Clear();

            // Descriptors return as the server's handlers see the extra clients' end of stream: it accepts a new one.
            using (Socket late = await ConnectDotNetAsync(endPoint, token))
            {
                await EchoesAsync(late, 1000, token);
            }

            await server.WaitForErrorLineAsync("info: ", "again, after", token);
            for (int i = 0; i < established.Count; i++)
            {
                await EchoesAsync(established[i], 200 + i, token);
            }

            Assert.That(server.HasExited, Is.False, server.Output);
            Assert.That(server.Output, Does.Contain("failed: EMFILE"), "the exhaustion was logged with its cause");
        }
        finally
        {
            established.ForEach(client => client.Dispose());
            extra.ForEach(client => client.Dispose());
        }

        Assert.That(await server.StopAsync(), Is.Zero, $"exit code after SIGTERM; output:\n{server.Output}");
    }

    [Test, CancelAfter(180_000)]
    public async Task A_flood_after_a_quiet_spell_leaves_miniss_serve_alive_within_its_descriptor_budget(CancellationToken token)
    {
        int port = UnusedLoopbackEndPoint().Port;
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        // miniss holds about a hundred descriptors of its own at start: 256 leave it a budget of about 130
        // connections, well under the 208 clients below.
        await using EchoProcess server = await EchoProcess.StartAsync(Backend, port, 256, token, cli: true);
        var established = new List<Socket>();
        var extra = new List<Socket>();
        try
        {
            for (int i = 0; i < Established; i++)
            {
                established.Add(await ConnectDotNetAsync(endPoint, token));
                await EchoesAsync(established[i], i, token);
            }

            // .NET ends its tiered-compilation thread after four idle seconds and starts it again, on a shard, when a
            // method turns hot; starting a thread takes descriptors. The flood comes after that quiet spell, so the
            // server would abort ("Out of memory.") if accepting were allowed to take the process's last descriptor.
            await Task.Delay(TimeSpan.FromSeconds(6), token);
            for (int i = 0; i < Extra; i++)
            {
                Socket client = await ConnectDotNetAsync(endPoint, token);
                extra.Add(client);
                await client.SendAsync(RandomBytes(64, 500 + i), SocketFlags.None, token);
            }

            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < established.Count; i++)
                {
                    await EchoesAsync(established[i], 100 + (round * Established) + i, token);
                }
            }

            Assert.That(server.HasExited, Is.False, $"the server died under the flood:\n{server.Output}");
            foreach (Socket client in extra)
            {
                client.Dispose();
            }

            extra.Clear();
            using (Socket late = await ConnectDotNetAsync(endPoint, token))
            {
                await EchoesAsync(late, 1000, token);
            }

            Assert.That(server.HasExited, Is.False, server.Output);
        }
        finally
        {
            established.ForEach(client => client.Dispose());
            extra.ForEach(client => client.Dispose());
        }

        Assert.That(await server.StopAsync(), Is.Zero, $"exit code after SIGTERM; output:\n{server.Output}");
    }

    /// <summary>One small round trip, bounded: the payload comes back unchanged.</summary>
    private static async Task EchoesAsync(Socket client, int seed, CancellationToken token)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(token);
        bound.CancelAfter(Bound);
        byte[] payload = RandomBytes(64, seed);
        await client.SendAsync(payload, SocketFlags.None, bound.Token);
        byte[] back = new byte[payload.Length];
        for (int total = 0; total < back.Length;)
        {
            int received = await client.ReceiveAsync(back.AsMemory(total), SocketFlags.None, bound.Token);
            Assert.That(received, Is.GreaterThan(0), "the server closed an established connection");
            total += received;
        }

        Assert.That(back, Is.EqualTo(payload));
    }

    /// <summary>The echo sample (<c>miniss-echo</c>) run under <c>prlimit --nofile</c>, with its output collected.</summary>
    private sealed class EchoProcess : IAsyncDisposable
    {
        private static readonly string s_echo = EchoBinary();
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly List<string> _errorLines = [];

        private EchoProcess(Process process) => _process = process;

        /// <summary>The sample as its own build left it (samples/Miniss.Samples.Echo/bin/CONFIG/TFM/miniss-echo), not the
        /// copy in this test's folder: that folder's assemblies resolve against the ASP.NET Core shared framework (the
        /// miniss command serves the ASP.NET Core sample), which the echo sample's runtimeconfig does not name.</summary>
        private static string EchoBinary()
        {
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));   // tests/Miniss.Runtime.Tests/bin/CONFIG/TFM
            DirectoryInfo configuration = output.Parent!;
            DirectoryInfo root = configuration.Parent!.Parent!.Parent!.Parent!;
            return Path.Combine(root.FullName, "samples", "Miniss.Samples.Echo", "bin", configuration.Name, output.Name, "miniss-echo");
        }

        public bool HasExited => _process.HasExited;

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static async Task<EchoProcess> StartAsync(IoBackendKind backend, int port, int descriptors, CancellationToken token, int? maxConnections = null, bool cli = false)
        {
            var start = new ProcessStartInfo("prlimit") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            string[] command = cli
                ? [Cli.MinissProcess.Binary, "serve", "echo", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]
                : [s_echo, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            start.ArgumentList.Add($"--nofile={descriptors}:{descriptors}");
            foreach (string argument in command)
            {
                start.ArgumentList.Add(argument);
            }

            if (maxConnections is int max)
            {
                start.ArgumentList.Add("--max-connections");
                start.ArgumentList.Add(max.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            start.Environment[IoBackendSelection.EnvironmentVariable] = IoBackendSelection.NameOf(backend);
            var echo = new EchoProcess(Process.Start(start) ?? throw new AssertionException("could not start prlimit"));
            echo._process.OutputDataReceived += (_, e) => echo.Collect(e.Data, error: false);
            echo._process.ErrorDataReceived += (_, e) => echo.Collect(e.Data, error: true);
            echo._process.BeginOutputReadLine();
            echo._process.BeginErrorReadLine();
            try
            {
                await Bounded.Eventually(() => echo.Output.Contains("echo server on", StringComparison.Ordinal) || echo.HasExited, "the echo server listens", token);
                Assert.That(echo.HasExited, Is.False, $"the echo server exited at start:\n{echo.Output}");
                return echo;
            }
            catch
            {
                await echo.DisposeAsync();
                throw;
            }
        }

        public Task WaitForErrorLineAsync(string prefix, string text, CancellationToken token) =>
            Bounded.Eventually(() => HasErrorLine(prefix, text) || HasExited, $"the server writes a line '{prefix}...{text}...'", token);

        /// <summary>SIGTERM, then the exit code (SIGKILL and a failure when it does not exit within the bound).</summary>
        public async Task<int> StopAsync()
        {
            if (!_process.HasExited)
            {
                _ = kill(_process.Id, SigTerm);
            }

            using var bound = new CancellationTokenSource(Bound);
            try
            {
                await _process.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                Assert.Fail($"the echo server did not stop within {Bound.TotalSeconds} s of SIGTERM:\n{Output}");
            }

            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        private static extern int kill(int pid, int signal);

        private const int SigTerm = 15;

        private bool HasErrorLine(string prefix, string text)
        {
            lock (_output)
            {
                return _errorLines.Exists(line => line.StartsWith(prefix, StringComparison.Ordinal) && line.Contains(text, StringComparison.Ordinal));
            }
        }

        private void Collect(string? line, bool error)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
                if (error)
                {
                    _errorLines.Add(line);
                }
            }
        }
    }
}
