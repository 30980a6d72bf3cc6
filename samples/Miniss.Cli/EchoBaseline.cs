using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;

namespace Miniss.Cli;

// Shared with bench/Miniss.NetBenchmarks, which compiles this file too: the phase every load worker reads, and the
// .NET side of the echo comparisons.

/// <summary>The phase of one workload's run, read by every worker before and after each operation.</summary>
internal sealed class RunPhase
{
    private const int Measure = 1;
    private const int Stop = 2;
    private volatile int _phase;

    public bool IsMeasuring => _phase == Measure;

    public bool IsStopped => _phase == Stop;

    public void BeginMeasuring() => _phase = Measure;

    public void BeginStopping() => _phase = Stop;
}

/// <summary>The .NET side of the echo: the server's connection handler <see cref="Socket.ReceiveAsync(Memory{byte}, SocketFlags, System.Threading.CancellationToken)"/>
/// and <c>SendAsync</c> with <see cref="Memory{T}"/>, the API Kestrel's socket transport uses) and the client's round.</summary>
internal static class DotNetEcho
{
    /// <summary>A client connection to the echo server at <paramref name="endPoint"/>, without Nagle's delay.</summary>
    public static async Task<Socket> ConnectAsync(EndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>One round of the ping-pong: sends all of <paramref name="message"/>, then waits until as many bytes
    /// have come back into <paramref name="reply"/>.</summary>
    /// <exception cref="IOException">The server closed the connection first.</exception>
    /// <remarks>Its state machine comes from a pool: a fresh one per round would charge .NET's side of the comparison
    /// an allocation per request that a loop written inline does not make.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask ExchangeAsync(Socket socket, byte[] message, byte[] reply)
    {
        for (int sent = 0; sent < message.Length;)
        {
            sent += await socket.SendAsync(message.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
        }

        for (int received = 0; received < message.Length;)
        {
            int n = await socket.ReceiveAsync(reply.AsMemory(received, message.Length - received), SocketFlags.None).ConfigureAwait(false);
            received += n > 0 ? n : throw new IOException("the echo server closed the connection");
        }
    }

    public static async Task HandleAsync(Socket socket)
    {
        using (socket)
        {
            byte[] buffer = GC.AllocateArray<byte>(16 * 1024, pinned: true);
            try
            {
                int received;
                while ((received = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false)) > 0)
                {
                    for (int sent = 0; sent < received;)
                    {
                        sent += await socket.SendAsync(buffer.AsMemory(sent, received - sent), SocketFlags.None).ConfigureAwait(false);
                    }
                }
            }
            catch (SocketException)
            {
                // The client went away.
            }
        }
    }
}
