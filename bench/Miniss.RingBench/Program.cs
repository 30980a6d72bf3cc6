using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Miniss;
using Miniss.IO;
using Miniss.Net;
using Miniss.Storage;

// Usage (each figure a median of interleaved rounds, A B C A B C ...):
//   Miniss.RingBench idle [--rounds N] [--seconds S]     idle strategies: echo on dedicated cores and on one shared core
//   Miniss.RingBench sqpoll [--rounds N] [--seconds S]   SQPOLL against the default: awaited NOP, QD32 reads, echo
// The child modes (server, client) are what the suites start under taskset.
return await RingBench.MainAsync(args);

internal static class RingBench
{
    private const int MessageSize = 64;

    public static async Task<int> MainAsync(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "idle";
        var options = Options.Parse(args.AsSpan(1));
        switch (mode)
        {
            case "server":
                await ServeAsync(options);
                return 0;
            case "client":
                Console.WriteLine((await ClientAsync(options)).ToString("F0", CultureInfo.InvariantCulture));
                return 0;
            case "idle":
                await IdleSuiteAsync(options);
                return 0;
            case "sqpoll":
                await PollingSuiteAsync(options);
                return 0;
            default:
                Console.Error.WriteLine($"unknown mode '{mode}': idle, sqpoll, server or client");
                return 2;
        }
    }

    private static RuntimeOptions Runtime(Options o, int shards) => new()
    {
        ShardCount = shards,
        Backend = o.Backend,
        IdleStrategy = o.Idle,
        SubmissionQueuePolling = o.Polling,
        SubmissionPollingIdle = TimeSpan.FromMilliseconds(o.PollingIdleMs),
        SubmissionPollingCpu = o.PollingCpu,
    };

    // ---- Child processes --------------------------------------------------------------------------------------

    private static async Task ServeAsync(Options o)
    {
        await using MinissRuntime runtime = MinissRuntime.Start(Runtime(o, 1));
        await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Loopback, o.Port), EchoAsync);
        Console.WriteLine("listening");
        await Task.Delay(TimeSpan.FromSeconds(o.Seconds + 30));
    }

    private static async Task<double> ClientAsync(Options o)
    {
        await using MinissRuntime runtime = MinissRuntime.Start(Runtime(o, 1));
        var endPoint = new IPEndPoint(IPAddress.Loopback, o.Port);
        return await runtime.SubmitTo(0, () => EchoClientAsync(endPoint, o.Seconds));
    }

    private static async ValueTask EchoAsync(ShardConnection connection)
    {
        byte[] buffer = GC.AllocateArray<byte>(MessageSize, pinned: true);
        while (true)
        {
            int n = await connection.ReceiveAsync(buffer);
            if (n == 0)
            {
                return;
            }

            await connection.SendAsync(buffer.AsMemory(0, n));
        }
    }

    private static async ValueTask<double> EchoClientAsync(EndPoint endPoint, double seconds)
    {
        await using ShardConnection connection = await ShardConnection.ConnectAsync(endPoint, TimeSpan.FromSeconds(10));
        byte[] message = GC.AllocateArray<byte>(MessageSize, pinned: true);
        byte[] reply = GC.AllocateArray<byte>(MessageSize, pinned: true);
        long warmUntil = Stopwatch.GetTimestamp() + (long)(0.3 * Stopwatch.Frequency);
        long started = 0, count = 0, end = long.MaxValue;
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            if (started == 0 && now >= warmUntil)
            {
                started = now;
                end = now + (long)(seconds * Stopwatch.Frequency);
            }

            if (now >= end)
            {
                return count / Stopwatch.GetElapsedTime(started, now).TotalSeconds;
            }

            await connection.SendAsync(message);
            int received = 0;
            while (received < MessageSize)
            {
                int n = await connection.ReceiveAsync(reply.AsMemory(received));
                if (n == 0)
                {
                    throw new IOException("the echo server closed the connection");
                }

                received += n;
            }

            if (started != 0)
            {
                count++;
            }
        }
    }

    // ---- In-process workloads ---------------------------------------------------------------------------------

    /// <summary>Echo, one connection, server on shard 0 and client on shard 1 (their own CPUs): requests/s.</summary>
    private static async Task<double> DedicatedEchoAsync(Options o)
    {
        // Two runtimes of one shard each, the server's on CPU 0 and the client's on CPU 1.
        RuntimeOptions serverOptions = Runtime(o, 1);
        serverOptions.Cpus = [0];
        RuntimeOptions clientOptions = Runtime(o, 1);
        clientOptions.Cpus = [1];
        await using MinissRuntime serverRuntime = MinissRuntime.Start(serverOptions);
        await using MinissRuntime clientRuntime = MinissRuntime.Start(clientOptions);
        await using ShardServer server = await ShardServer.StartAsync(serverRuntime, new IPEndPoint(IPAddress.Loopback, 0), EchoAsync);
        EndPoint endPoint = server.LocalEndPoint;
        return await clientRuntime.SubmitTo(0, () => EchoClientAsync(endPoint, o.Seconds));
    }

    /// <summary>Awaited NOPs one at a time on one shard: nanoseconds per round trip.</summary>
    private static async Task<double> NopAsync(Options o)
    {
        await using MinissRuntime runtime = MinissRuntime.Start(Runtime(o, 1));
        return await runtime.SubmitTo(0, async ValueTask<double> () =>
        {
            Shard shard = Shard.Current!;
            for (int i = 0; i < 20_000; i++)
            {
                await shard.NopAsync();
            }

            long count = 0;
            long started = Stopwatch.GetTimestamp();
            long end = started + (long)(o.Seconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < end)
            {
                for (int i = 0; i < 1000; i++)
                {
                    await shard.NopAsync();
                }

                count += 1000;
            }

            return Stopwatch.GetElapsedTime(started).TotalNanoseconds / count;
        });
    }

    /// <summary>4 KiB random reads, 32 in flight on one shard: reads/s.</summary>
    private static async Task<double> ReadsAsync(Options o, string path, long blocks)
    {
        await using MinissRuntime runtime = MinissRuntime.Start(Runtime(o, 1));
        return await runtime.SubmitTo(0, async ValueTask<double> () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
            long count = 0;
            long started = Stopwatch.GetTimestamp();
            long end = started + (long)(o.Seconds * Stopwatch.Frequency);
            var workers = new Task[32];
            for (int w = 0; w < workers.Length; w++)
            {
                ulong seed = (ulong)w * 0x9E3779B97F4A7C15UL + 1;
                workers[w] = Worker(seed);
            }

            await Task.WhenAll(workers);
            return count / Stopwatch.GetElapsedTime(started).TotalSeconds;

            async Task Worker(ulong state)
            {
                byte[] buffer = GC.AllocateArray<byte>(4096, pinned: true);
                while (Stopwatch.GetTimestamp() < end)
                {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    await file.ReadAsync((long)(state % (ulong)blocks) * 4096, buffer);
                    count++;
                }
            }
        });
    }

    /// <summary>Echo, one connection, between two processes that share one CPU (taskset): requests/s.</summary>
    private static async Task<double> SharedCoreEchoAsync(Options o, int port)
    {
        string self = Environment.ProcessPath!;
        string[] common = ["--backend", IoBackendSelection.NameOf(o.Backend), "--idle", o.Idle.ToString(), "--port", port.ToString(CultureInfo.InvariantCulture),
            "--seconds", o.Seconds.ToString(CultureInfo.InvariantCulture), "--sqpoll", o.Polling.ToString()];
        using Process server = Start(self, ["-c", o.SharedCpu, self, "server", .. common], redirect: true);
        try
        {
            string? line = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            if (line != "listening")
            {
                throw new InvalidOperationException($"the echo server did not start: {line} {await server.StandardError.ReadToEndAsync()}");
            }

            using Process client = Start(self, ["-c", o.SharedCpu, self, "client", .. common], redirect: true);
            string output = await client.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(o.Seconds + 60));
            await client.WaitForExitAsync();
            return double.Parse(output.Trim(), CultureInfo.InvariantCulture);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    private static Process Start(string self, string[] arguments, bool redirect)
    {
        var start = new ProcessStartInfo("taskset") { RedirectStandardOutput = redirect, RedirectStandardError = redirect, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _ = self;
        return Process.Start(start)!;
    }

    // ---- Suites -----------------------------------------------------------------------------------------------

    private static async Task IdleSuiteAsync(Options o)
    {
        IdleStrategy[] strategies = [IdleStrategy.Adaptive, IdleStrategy.Spin, IdleStrategy.Block];
        IoBackendKind[] backends = [IoBackendKind.IoUring, IoBackendKind.Epoll];
        var rows = new Dictionary<string, List<double>>();
        int port = 19000 + Environment.ProcessId % 1000;
        for (int round = 0; round < o.Rounds; round++)
        {
            foreach (IoBackendKind backend in backends)
            {
                foreach (IdleStrategy strategy in strategies)
                {
                    Options run = o with { Backend = backend, Idle = strategy };
                    Add(rows, $"echo 1 conn, dedicated cores, {IoBackendSelection.NameOf(backend)}, {strategy}", await DedicatedEchoAsync(run));
                    Add(rows, $"echo 1 conn, two processes on CPU {o.SharedCpu}, {IoBackendSelection.NameOf(backend)}, {strategy}", await SharedCoreEchoAsync(run, port++));
                }
            }

            Console.Error.WriteLine($"round {round + 1} of {o.Rounds} done");
        }

        Print("requests/s", rows);
    }

    private static async Task PollingSuiteAsync(Options o)
    {
        string path = Path.Combine(Path.GetTempPath(), $"miniss-ringbench-{Environment.ProcessId}.dat");
        const long fileSize = 64L << 20;
        await using (FileStream f = File.Create(path))
        {
            byte[] chunk = new byte[1 << 20];
            Random.Shared.NextBytes(chunk);
            for (long written = 0; written < fileSize; written += chunk.Length)
            {
                f.Write(chunk);
            }
        }

        try
        {
            (string Name, Options Run)[] variants =
            [
                ("default", o with { Polling = SubmissionQueuePolling.Off }),
                ($"SQPOLL idle {o.PollingIdleMs} ms", o with { Polling = SubmissionQueuePolling.Required }),
            ];
            var nop = new Dictionary<string, List<double>>();
            var reads = new Dictionary<string, List<double>>();
            var echo = new Dictionary<string, List<double>>();
            for (int round = 0; round < o.Rounds; round++)
            {
                foreach ((string name, Options run) in variants)
                {
                    Add(nop, $"awaited NOP, {name}", await NopAsync(run));
                    Add(reads, $"4 KiB reads QD32, {name}", await ReadsAsync(run, path, fileSize / 4096));
                    Add(echo, $"echo 1 conn, dedicated cores, {name}", await DedicatedEchoAsync(run));
                }

                Console.Error.WriteLine($"round {round + 1} of {o.Rounds} done");
            }

            Print("ns per round trip", nop);
            Print("reads/s", reads);
            Print("requests/s", echo);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void Add(Dictionary<string, List<double>> rows, string row, double value)
    {
        if (!rows.TryGetValue(row, out List<double>? values))
        {
            rows[row] = values = [];
        }

        values.Add(value);
    }

    private static void Print(string unit, Dictionary<string, List<double>> rows)
    {
        Console.WriteLine($"| workload | median {unit} | rounds |");
        Console.WriteLine("| --- | ---: | --- |");
        foreach ((string row, List<double> values) in rows)
        {
            var sorted = new List<double>(values);
            sorted.Sort();
            double median = sorted[sorted.Count / 2];
            Console.WriteLine($"| {row} | {median:F0} | {string.Join(" ", values.ConvertAll(v => v.ToString("F0", CultureInfo.InvariantCulture)))} |");
        }

        Console.WriteLine();
    }
}

internal sealed record Options(IoBackendKind Backend, IdleStrategy Idle, SubmissionQueuePolling Polling, int PollingIdleMs, int? PollingCpu,
    int Port, double Seconds, int Rounds, string SharedCpu)
{
    public static Options Parse(ReadOnlySpan<string> args)
    {
        var o = new Options(IoBackendKind.IoUring, IdleStrategy.Adaptive, SubmissionQueuePolling.Off, 1, null, 0, 2, 3, "0");
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            o = args[i] switch
            {
                "--backend" => o with { Backend = IoBackendSelection.Parse(value) },
                "--idle" => o with { Idle = Enum.Parse<IdleStrategy>(value, ignoreCase: true) },
                "--sqpoll" => o with { Polling = Enum.Parse<SubmissionQueuePolling>(value, ignoreCase: true) },
                "--sqpoll-idle" => o with { PollingIdleMs = int.Parse(value, CultureInfo.InvariantCulture) },
                "--sqpoll-cpu" => o with { PollingCpu = int.Parse(value, CultureInfo.InvariantCulture) },
                "--port" => o with { Port = int.Parse(value, CultureInfo.InvariantCulture) },
                "--seconds" => o with { Seconds = double.Parse(value, CultureInfo.InvariantCulture) },
                "--rounds" => o with { Rounds = int.Parse(value, CultureInfo.InvariantCulture) },
                "--shared-cpu" => o with { SharedCpu = value },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return o;
    }
}
