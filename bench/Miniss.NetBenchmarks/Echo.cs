using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;

using Miniss.Cli;

namespace Miniss.NetBenchmarks;

/// <summary>
/// The 64-byte echo ping-pong: servers that send back what they receive, and clients whose connections each send
/// 64 bytes, wait for all 64 to come back, and repeat. One version on Miniss, one on .NET's async <see cref="Socket"/>
/// (<c>ReceiveAsync</c>/<c>SendAsync</c> with <see cref="Memory{T}"/>, the API Kestrel's socket transport uses).
/// </summary>
internal static class Echo
{
    public const int MessageSize = 64;

    // ---- servers ---------------------------------------------------------------------------------------------------

    /// <summary>Miniss: a <see cref="ShardServer"/> on every shard (SO_REUSEPORT), one handler per connection on the
    /// shard that accepted it.</summary>
    public static async Task ServeMinissAsync(int port, Task stop)
    {
        await using MinissRuntime runtime = MinissRuntime.Start();
        await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Loopback, port), async connection =>
        {
            byte[] buffer = GC.AllocateArray<byte>(16 * 1024, pinned: true);
            int received;
            while ((received = await connection.ReceiveAsync(buffer)) > 0)
            {
                await connection.SendAsync(buffer.AsMemory(0, received));
            }
        });
        Ready(port);
        await stop.ConfigureAwait(false);
    }

    /// <summary>.NET: a listening <see cref="Socket"/>, an accept loop, and one handler task per connection on the
    /// thread pool.</summary>
    public static async Task ServeDotNetAsync(int port, Task stop)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        listener.Listen(1024);
        Ready(port);
        using var stopAccepting = new CancellationTokenSource();
        Task accepting = AcceptLoopAsync(listener, stopAccepting.Token);
        await stop.ConfigureAwait(false);
        await stopAccepting.CancelAsync().ConfigureAwait(false);
        await accepting.ConfigureAwait(false);
    }

    private static async Task AcceptLoopAsync(Socket listener, CancellationToken token)
    {
        try
        {
            while (true)
            {
                Socket accepted = await listener.AcceptAsync(token).ConfigureAwait(false);
                accepted.NoDelay = true;
                _ = Task.Run(() => DotNetEcho.HandleAsync(accepted), CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private static void Ready(int port) => Console.WriteLine($"listening {port}");

    // ---- load generators -------------------------------------------------------------------------------------------

    /// <summary>Miniss: the connections spread round-robin over the shards, each a loop of send 64 B / receive 64 B.</summary>
    public static async Task<LoadResult> LoadMinissAsync(int port, int connections, TimeSpan warmup, TimeSpan duration)
    {
        await using MinissRuntime runtime = MinissRuntime.Start();
        int shards = runtime.ShardCount;
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        var phase = new RunPhase();
        var histograms = new LatencyHistogram[connections];
        var perShard = new Task[shards];
        for (int s = 0; s < shards; s++)
        {
            int shard = s;
            perShard[s] = runtime.SubmitTo(shard, async () =>
            {
                var clients = new List<Task>();
                for (int c = shard; c < connections; c += shards)
                {
                    histograms[c] = new LatencyHistogram();
                    clients.Add(MinissClientAsync(endPoint, histograms[c], phase));
                }

                foreach (Task client in clients)
                {
                    await client;
                }
            }).AsTask();
        }

        return await LoadResult.MeasureAsync(phase, histograms, Task.WhenAll(perShard), warmup, duration).ConfigureAwait(false);
    }

    private static async Task MinissClientAsync(EndPoint endPoint, LatencyHistogram histogram, RunPhase phase)
    {
        await using ShardConnection connection = await ShardConnection.ConnectAsync(endPoint, TimeSpan.FromSeconds(10));
        byte[] message = GC.AllocateArray<byte>(MessageSize, pinned: true);
        byte[] reply = GC.AllocateArray<byte>(MessageSize, pinned: true);
        message.AsSpan().Fill((byte)'m');
        while (!phase.IsStopped)
        {
            long started = Stopwatch.GetTimestamp();
            await connection.SendAsync(message);
            for (int received = 0; received < MessageSize;)
            {
                int n = await connection.ReceiveAsync(reply.AsMemory(received));
                received += n > 0 ? n : throw new IOException("the echo server closed the connection");
            }

            if (phase.IsMeasuring)
            {
                histogram.RecordSince(started);
            }
        }
    }

    /// <summary>.NET: one task per connection on the thread pool, each a loop of send 64 B / receive 64 B.</summary>
    public static async Task<LoadResult> LoadDotNetAsync(int port, int connections, TimeSpan warmup, TimeSpan duration)
    {
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        var phase = new RunPhase();
        var histograms = new LatencyHistogram[connections];
        var clients = new Task[connections];
        for (int c = 0; c < connections; c++)
        {
            LatencyHistogram histogram = histograms[c] = new LatencyHistogram();
            clients[c] = Task.Run(() => DotNetClientAsync(endPoint, histogram, phase));
        }

        return await LoadResult.MeasureAsync(phase, histograms, Task.WhenAll(clients), warmup, duration).ConfigureAwait(false);
    }

    private static async Task DotNetClientAsync(EndPoint endPoint, LatencyHistogram histogram, RunPhase phase)
    {
        using Socket socket = await DotNetEcho.ConnectAsync(endPoint).ConfigureAwait(false);
        byte[] message = GC.AllocateArray<byte>(MessageSize, pinned: true);
        byte[] reply = GC.AllocateArray<byte>(MessageSize, pinned: true);
        message.AsSpan().Fill((byte)'m');
        while (!phase.IsStopped)
        {
            long started = Stopwatch.GetTimestamp();
            await DotNetEcho.ExchangeAsync(socket, message, reply).ConfigureAwait(false);
            if (phase.IsMeasuring)
            {
                histogram.RecordSince(started);
            }
        }

        socket.Shutdown(SocketShutdown.Both);
    }
}

/// <summary>What one load generator measured: requests completed in the measured window, its length, latency
/// percentiles, and the CPU time its own process used meanwhile.</summary>
internal sealed record LoadResult(long Requests, double Seconds, double P50Microseconds, double P99Microseconds, double CpuSeconds)
{
    /// <summary>Lets the connections warm up, measures for <paramref name="duration"/>, stops them and merges their
    /// histograms. Prints "measuring" when the window opens, so that the parent can sample the server's CPU time.</summary>
    public static async Task<LoadResult> MeasureAsync(RunPhase phase, LatencyHistogram[] histograms, Task connections, TimeSpan warmup, TimeSpan duration)
    {
        Task failed = await Task.WhenAny(connections, Task.Delay(warmup)).ConfigureAwait(false);
        if (failed == connections)
        {
            await connections.ConfigureAwait(false);
            throw new InvalidOperationException("the connections ended during the warm-up");
        }

        using var self = Process.GetCurrentProcess();
        TimeSpan cpuBefore = self.TotalProcessorTime;
        long started = Stopwatch.GetTimestamp();
        phase.BeginMeasuring();
        Console.WriteLine("measuring");
        await Task.Delay(duration).ConfigureAwait(false);
        phase.BeginStopping();
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        self.Refresh();
        double cpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
        await connections.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);

        var all = new LatencyHistogram();
        foreach (LatencyHistogram histogram in histograms)
        {
            all.Add(histogram);
        }

        return new LoadResult(all.Count, seconds, Micro(all, 50), Micro(all, 99), cpu);
    }

    private static double Micro(LatencyHistogram histogram, double percentile) =>
        histogram.Count == 0 ? double.NaN : LatencyHistogram.ToMicroseconds(histogram.ValueAtPercentile(percentile));
}
