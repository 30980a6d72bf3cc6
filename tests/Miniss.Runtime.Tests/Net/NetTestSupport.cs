using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Net;

/// <summary>Helpers of the networking tests: loopback endpoints, payloads, echo handlers, bounded waits.</summary>
internal static class NetTestSupport
{
    public static IPEndPoint AnyLoopbackPort => new(IPAddress.Loopback, 0);

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] RandomBytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Echoes everything a connection receives until the peer's end of stream, then returns.</summary>
    public static async ValueTask Echo(ShardConnection connection)
    {
        byte[] buffer = new byte[16 * 1024];
        int received;
        while ((received = await connection.ReceiveAsync(buffer)) > 0)
        {
            await connection.SendAsync(buffer.AsMemory(0, received));
        }
    }

    /// <summary>Receives until the end of stream (or <paramref name="expected"/> bytes more than expected, a failure).</summary>
    public static async ValueTask<byte[]> ReceiveToEndAsync(ShardConnection connection, int expected)
    {
        byte[] data = new byte[expected + 1];
        int total = 0;
        int received;
        while ((received = await connection.ReceiveAsync(data.AsMemory(total))) > 0)
        {
            total += received;
            if (total == data.Length)
            {
                Assert.Fail($"received more than the {expected} bytes expected");
            }
        }

        return data[..total];
    }

    /// <summary>Receives exactly <c>buffer.Length</c> bytes (fails at an early end of stream).</summary>
    public static async ValueTask ReceiveExactlyAsync(ShardConnection connection, Memory<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int received = await connection.ReceiveAsync(buffer);
            if (received == 0)
            {
                Assert.Fail($"end of stream with {buffer.Length} bytes still expected");
            }

            buffer = buffer[received..];
        }
    }

    /// <summary>Sends <paramref name="payload"/>, half-closes, and returns everything received back until the peer's
    /// end of stream: a whole echo round trip, sending and receiving at once.</summary>
    public static async ValueTask<byte[]> RoundTripAsync(ShardConnection connection, byte[] payload)
    {
        Task<byte[]> receiving = ReceiveToEndAsync(connection, payload.Length).AsTask();
        await connection.SendAsync(payload);
        await connection.ShutdownAsync(SocketShutdown.Send);
        return await receiving;
    }

    /// <summary>Byte-for-byte equality, naming the first difference instead of dumping megabytes.</summary>
    public static void AssertSameBytes(byte[] actual, byte[] expected)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), "length");
        int mismatch = actual.AsSpan().CommonPrefixLength(expected);
        Assert.That(mismatch, Is.EqualTo(expected.Length), $"first difference at byte {mismatch}");
    }

    /// <summary>A port on loopback that nothing listens on (bound, then released).</summary>
    public static IPEndPoint UnusedLoopbackEndPoint()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)probe.LocalEndPoint!;
    }

    /// <summary>A plain .NET socket connected to <paramref name="endPoint"/>.</summary>
    public static async Task<Socket> ConnectDotNetAsync(EndPoint endPoint, CancellationToken token)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, endPoint.AddressFamily == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endPoint, token);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Closes <paramref name="socket"/> with a reset (SO_LINGER 0) instead of a FIN.</summary>
    public static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Dispose();
    }

    /// <summary>How many descriptors the process has open (not counting mapped assemblies).</summary>
    public static int OpenDescriptorCount() => Storage.StorageTestSupport.OpenDescriptorCount();
}
