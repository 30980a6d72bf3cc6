using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;
using Miniss.Net;
using Miniss.Storage;

namespace Miniss.Cli;

/// <summary>The workloads of <c>miniss bench</c>, each on Miniss and on .NET. Workers preallocate their buffers and
/// latency arrays; the loop of each allocates nothing of its own per operation.</summary>
internal static class Workloads
{
    public const string FileRead = "file read 4 KiB";
    public const string Echo = "TCP echo 64 B";
    public const string PingPong = "ping-pong";
    public const string MinissName = "Miniss";
    public const string DotNetName = ".NET";

    private const int BlockSize = 4096;
    private const int MessageSize = 64;
    private static readonly Func<int> s_one = static () => 1;

    // ---- 4 KiB random reads ------------------------------------------------------------------------------------

    /// <summary>Miniss: every shard opens the file (BufferedFile) and keeps <c>depth</c> reads in flight.</summary>
    public static async Task<BenchResult> MinissFileReadAsync(BenchContext context, MinissRuntime runtime, string path, long fileSize, int depth, Action<string> progress)
    {
        int shards = runtime.ShardCount;
        var phase = new RunPhase();
        WorkerStats[] stats = WorkerStats.Create(shards * depth);
        long blocks = fileSize / BlockSize;
        var perShard = new Task[shards];
        for (int s = 0; s < shards; s++)
        {
            int shard = s;
            perShard[s] = runtime.SubmitTo(shard, async () =>
            {
                await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
                var workers = new Task[depth];
                for (int w = 0; w < depth; w++)
                {
                    workers[w] = MinissFileWorker(file, GC.AllocateArray<byte>(BlockSize, pinned: true), stats[shard * depth + w], phase, blocks, Seed(shard, w));
                }

                foreach (Task worker in workers)
                {
                    await worker;
                }
            }).AsTask();
        }

        return await context.MeasureAsync(FileRead, MinissName, phase, stats, Task.WhenAll(perShard), progress).ConfigureAwait(false);
    }

    private static async Task MinissFileWorker(BufferedFile file, byte[] buffer, WorkerStats stats, RunPhase phase, long blocks, ulong seed)
    {
        ulong state = seed;
        while (!phase.IsStopped)
        {
            long offset = (long)(Next(ref state) % (ulong)blocks) * BlockSize;
            long started = Stopwatch.GetTimestamp();
            await file.ReadAsync(offset, buffer);
            stats.Record(phase, started);
        }
    }

    /// <summary>.NET: RandomAccess.ReadAsync on one handle, <c>depth</c> reads in flight per core, on the thread pool.</summary>
    public static async Task<BenchResult> DotNetFileReadAsync(BenchContext context, int cores, string path, long fileSize, int depth, Action<string> progress)
    {
        var phase = new RunPhase();
        int count = cores * depth;
        WorkerStats[] stats = WorkerStats.Create(count);
        long blocks = fileSize / BlockSize;
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        var workers = new Task[count];
        for (int w = 0; w < count; w++)
        {
            byte[] buffer = GC.AllocateArray<byte>(BlockSize, pinned: true);
            WorkerStats mine = stats[w];
            ulong seed = Seed(w / depth, w % depth);
            workers[w] = Task.Run(() => DotNetFileWorker(handle, buffer, mine, phase, blocks, seed));
        }

        return await context.MeasureAsync(FileRead, DotNetName, phase, stats, Task.WhenAll(workers), progress).ConfigureAwait(false);
    }

    private static async Task DotNetFileWorker(SafeFileHandle handle, byte[] buffer, WorkerStats stats, RunPhase phase, long blocks, ulong seed)
    {
        ulong state = seed;
        while (!phase.IsStopped)
        {
            long offset = (long)(Next(ref state) % (ulong)blocks) * BlockSize;
            long started = Stopwatch.GetTimestamp();
            await RandomAccess.ReadAsync(handle, buffer, offset).ConfigureAwait(false);
            stats.Record(phase, started);
        }
    }

    // ---- TCP echo ----------------------------------------------------------------------------------------------

    /// <summary>Miniss: a ShardServer on every shard (SO_REUSEPORT) and the client connections spread round-robin over
    /// the shards, each sending 64 bytes and waiting for them to come back.</summary>
    public static async Task<BenchResult> MinissEchoAsync(BenchContext context, MinissRuntime runtime, int connections, Action<string> progress)
    {
        int shards = runtime.ShardCount;
        await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Loopback, 0), EchoHandlers.EchoAsync).ConfigureAwait(false);
        EndPoint endPoint = server.LocalEndPoint;
        var phase = new RunPhase();
        WorkerStats[] stats = WorkerStats.Create(connections);
        var perShard = new Task[shards];
        for (int s = 0; s < shards; s++)
        {
            int shard = s;
            perShard[s] = runtime.SubmitTo(shard, async () =>
            {
                var clients = new List<Task>();
                for (int c = shard; c < connections; c += shards)
                {
                    clients.Add(MinissEchoClient(endPoint, stats[c], phase));
                }

                foreach (Task client in clients)
                {
                    await client;
                }
            }).AsTask();
        }

        return await context.MeasureAsync(Echo, MinissName, phase, stats, Task.WhenAll(perShard), progress).ConfigureAwait(false);
    }

    private static async Task MinissEchoClient(EndPoint endPoint, WorkerStats stats, RunPhase phase)
    {
        await using ShardConnection connection = await ShardConnection.ConnectAsync(endPoint, TimeSpan.FromSeconds(10));
        byte[] message = GC.AllocateArray<byte>(MessageSize, pinned: true);
        byte[] reply = GC.AllocateArray<byte>(MessageSize, pinned: true);
        message.AsSpan().Fill((byte)'m');
        while (!phase.IsStopped)
        {
            long started = Stopwatch.GetTimestamp();
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

            stats.Record(phase, started);
        }
    }

    /// <summary>.NET: a Socket listener with an accept loop and a handler per connection on the thread pool, and as many
    /// client sockets, each a task sending 64 bytes and waiting for them to come back.</summary>
    public static async Task<BenchResult> DotNetEchoAsync(BenchContext context, int connections, Action<string> progress)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1024);
        EndPoint endPoint = listener.LocalEndPoint!;
        using var stopAccepting = new CancellationTokenSource();
        var handlers = new List<Task>();
        Task acceptLoop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    Socket accepted = await listener.AcceptAsync(stopAccepting.Token).ConfigureAwait(false);
                    accepted.NoDelay = true;
                    lock (handlers)
                    {
                        handlers.Add(Task.Run(() => DotNetEcho.HandleAsync(accepted)));
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        });

        var phase = new RunPhase();
        WorkerStats[] stats = WorkerStats.Create(connections);
        var clients = new Task[connections];
        for (int c = 0; c < connections; c++)
        {
            WorkerStats mine = stats[c];
            clients[c] = Task.Run(() => DotNetEchoClient(endPoint, mine, phase));
        }

        try
        {
            return await context.MeasureAsync(Echo, DotNetName, phase, stats, Task.WhenAll(clients), progress).ConfigureAwait(false);
        }
        finally
        {
            await stopAccepting.CancelAsync().ConfigureAwait(false);
            await acceptLoop.ConfigureAwait(false);
            Task[] open;
            lock (handlers)
            {
                open = [.. handlers];
            }

            await Task.WhenAll(open).ConfigureAwait(false);
        }
    }

    private static async Task DotNetEchoClient(EndPoint endPoint, WorkerStats stats, RunPhase phase)
    {
        using Socket socket = await DotNetEcho.ConnectAsync(endPoint).ConfigureAwait(false);
        byte[] message = GC.AllocateArray<byte>(MessageSize, pinned: true);
        byte[] reply = GC.AllocateArray<byte>(MessageSize, pinned: true);
        message.AsSpan().Fill((byte)'m');
        while (!phase.IsStopped)
        {
            long started = Stopwatch.GetTimestamp();
            await DotNetEcho.ExchangeAsync(socket, message, reply).ConfigureAwait(false);
            stats.Record(phase, started);
        }

        socket.Shutdown(SocketShutdown.Both);
    }

    // ---- cross-core ping-pong ----------------------------------------------------------------------------------

    /// <summary>Miniss: every shard awaits SubmitTo(next shard, () =&gt; 1) in a loop (one round trip in flight per
    /// shard; with one shard it submits to itself).</summary>
    public static async Task<BenchResult> MinissPingPongAsync(BenchContext context, MinissRuntime runtime, Action<string> progress)
    {
        int shards = runtime.ShardCount;
        var phase = new RunPhase();
        WorkerStats[] stats = WorkerStats.Create(shards);
        var perShard = new Task[shards];
        for (int s = 0; s < shards; s++)
        {
            int shard = s;
            perShard[s] = runtime.SubmitTo(shard, () => MinissPingPongWorker(runtime, (shard + 1) % shards, stats[shard], phase)).AsTask();
        }

        return await context.MeasureAsync(PingPong, MinissName, phase, stats, Task.WhenAll(perShard), progress).ConfigureAwait(false);
    }

    private static async ValueTask MinissPingPongWorker(MinissRuntime runtime, int target, WorkerStats stats, RunPhase phase)
    {
        while (!phase.IsStopped)
        {
            long started = Stopwatch.GetTimestamp();
            await runtime.SubmitTo(target, s_one);
            stats.Record(phase, started);
        }
    }

    /// <summary>.NET: as many pairs as shards of a requester and a responder task on the thread pool, talking through two
    /// single-reader single-writer channels (the benchmark project's DotNet_channel_round_trip).</summary>
    public static async Task<BenchResult> DotNetPingPongAsync(BenchContext context, int pairs, Action<string> progress)
    {
        var phase = new RunPhase();
        WorkerStats[] stats = WorkerStats.Create(pairs);
        var workers = new Task[pairs * 2];
        for (int p = 0; p < pairs; p++)
        {
            var requests = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var replies = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            workers[2 * p] = Task.Run(async () =>
            {
                await foreach (int request in requests.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    replies.Writer.TryWrite(request);
                }
            });
            WorkerStats mine = stats[p];
            workers[(2 * p) + 1] = Task.Run(async () =>
            {
                try
                {
                    for (int i = 0; !phase.IsStopped; i++)
                    {
                        long started = Stopwatch.GetTimestamp();
                        requests.Writer.TryWrite(i);
                        await replies.Reader.ReadAsync().ConfigureAwait(false);
                        mine.Record(phase, started);
                    }
                }
                finally
                {
                    requests.Writer.TryComplete();
                }
            });
        }

        return await context.MeasureAsync(PingPong, DotNetName, phase, stats, Task.WhenAll(workers), progress).ConfigureAwait(false);
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static ulong Seed(int shard, int worker) => 0x9E3779B97F4A7C15UL * (ulong)((shard * 1000) + worker + 1);

    private static ulong Next(ref ulong state)
    {
        // xorshift64*: a random block per read without allocating or sharing a Random.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        return state * 2685821657736338717UL;
    }
}
