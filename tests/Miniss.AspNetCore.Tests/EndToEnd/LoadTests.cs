using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>Many connections at once, and wrk with a check of every response.</summary>
[TestFixtureSource(typeof(EndToEndTransports), nameof(EndToEndTransports.Available))]
public sealed class LoadTests(EndToEndTransport transport) : EndToEndFixture(transport)
{
    private const int Connections = 1000;
    private static readonly byte[] s_expected = Encoding.ASCII.GetBytes("Hello, World!");

    [Test]
    public async Task Thousand_concurrent_connections_are_each_answered_while_all_stay_open()
    {
        using var ceiling = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var sockets = new Socket[Connections];
        try
        {
            // Connected a hundred at a time (a burst of a thousand SYNs would only exercise the listen backlog), and
            // every one kept open until all have been answered.
            for (int first = 0; first < Connections; first += 100)
            {
                var connecting = new Task[Math.Min(100, Connections - first)];
                for (int i = 0; i < connecting.Length; i++)
                {
                    Socket socket = sockets[first + i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    connecting[i] = socket.ConnectAsync(IPAddress.Loopback, Server.Http.Port, ceiling.Token).AsTask();
                }

                await Task.WhenAll(connecting);
            }

            var answered = new Task<bool>[Connections];
            for (int i = 0; i < Connections; i++)
            {
                answered[i] = GetPlaintextAsync(sockets[i], ceiling.Token);
            }

            bool[] results = await Task.WhenAll(answered);

            Assert.That(Array.FindAll(results, static r => !r), Is.Empty, "connections answered without \"Hello, World!\"");
            // Every client's connection is open at the server at once: its remote port is some client's local port.
            var clientPorts = new HashSet<string>(Connections);
            foreach (Socket socket in sockets)
            {
                clientPorts.Add(((IPEndPoint)socket.LocalEndPoint!).Port.ToString("X4", CultureInfo.InvariantCulture));
            }

            var served = new HashSet<string>(Connections);
            var others = new List<string>();
            foreach (string entry in ServerConnections.Open(Server.Ports))
            {
                string remotePort = entry.Split(' ')[2].Split(':')[1];
                if (clientPorts.Contains(remotePort))
                {
                    served.Add(entry);
                }
                else
                {
                    others.Add(entry);
                }
            }

            Assert.That(served, Has.Count.EqualTo(Connections), "server-side connections open while every client holds its own");
            Assert.That(others, Is.Empty, "server-side connections of no client of this test");
        }
        finally
        {
            foreach (Socket? socket in sockets)
            {
                socket?.Dispose();
            }
        }
    }

    [Test]
    public async Task Wrk_receives_the_expected_body_in_every_response()
    {
        ToolRun wrk = await ToolRun.RunAsync("wrk", "-t1", "-c16", "-d1s", "--timeout", "10s", "-s", LuaScript(),
            new Uri(Server.Http, "plaintext").ToString(), "--", "Hello, World!");

        Assert.That(wrk.ExitCode, Is.Zero, wrk.ToString());
        Assert.That(wrk.Output, Does.Contain(" 0 bad;"));
    }

    [Test]
    public async Task Wrk_pipelining_16_requests_receives_every_response_in_order()
    {
        ToolRun wrk = await ToolRun.RunAsync("wrk", "-t1", "-c16", "-d1s", "--timeout", "10s", "-s", LuaScript(),
            new Uri(Server.Http, "json").ToString(), "--", """{"message":"Hello, World!"}""", "16");

        Assert.That(wrk.ExitCode, Is.Zero, wrk.ToString());
        Assert.That(wrk.Output, Does.Contain(" 0 bad;"));
    }

    private static string LuaScript() => Path.Combine(TestContext.CurrentContext.TestDirectory, "EndToEnd", "check-responses.lua");

    /// <summary>Sends one HTTP/1.1 GET /plaintext and reads the response to the end of its 13-byte body.</summary>
    private static async Task<bool> GetPlaintextAsync(Socket socket, CancellationToken cancellationToken)
    {
        await socket.SendAsync("GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray(), SocketFlags.None, cancellationToken);
        byte[] buffer = new byte[1024];
        int received = 0;
        while (received < buffer.Length)
        {
            int count = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, cancellationToken);
            if (count == 0)
            {
                return false;
            }

            received += count;
            if (buffer.AsSpan(0, received).EndsWith(s_expected))
            {
                return buffer.AsSpan(0, received).StartsWith("HTTP/1.1 200 "u8);
            }
        }

        return false;
    }
}
