using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using Miniss.Net;
using NUnit.Framework;

namespace Miniss.Hosting.Tests;

/// <summary>An echo handler and a bounded client round trip through it.</summary>
internal static class Echo
{
    /// <summary>Sends back what the connection receives until the client closes. Runs on the connection's shard.</summary>
    public static async ValueTask HandleAsync(ShardConnection connection)
    {
        byte[] buffer = new byte[4096];
        int received;
        while ((received = await connection.ReceiveAsync(buffer)) > 0)
        {
            await connection.SendAsync(buffer.AsMemory(0, received));
        }
    }

    /// <summary>Connects to <paramref name="endPoint"/>, sends a message and checks that it comes back.</summary>
    public static void RoundTrip(EndPoint endPoint)
    {
        using Socket client = Connect(endPoint);
        byte[] message = Encoding.ASCII.GetBytes("ping");
        client.Send(message);
        byte[] reply = new byte[message.Length];
        int received = 0;
        while (received < reply.Length)
        {
            int n = client.Receive(reply, received, reply.Length - received, SocketFlags.None);
            Assert.That(n, Is.Positive, "the server closed the connection");
            received += n;
        }

        Assert.That(reply, Is.EqualTo(message));
    }

    /// <summary>A connected client whose sends and receives give up after 30 s.</summary>
    public static Socket Connect(EndPoint endPoint)
    {
        var client = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000, SendTimeout = 30_000 };
        client.Connect(endPoint);
        return client;
    }
}
