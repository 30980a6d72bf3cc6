using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Miniss.IO;
using Miniss.Samples.AspNetCore;
using NUnit.Framework;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>Clients that go away, a stop with work in flight, a port already taken.</summary>
[TestFixtureSource(typeof(EndToEndTransports), nameof(EndToEndTransports.Available))]
public sealed class FailureTests(EndToEndTransport transport) : EndToEndFixture(transport)
{
    private static readonly TimeSpan s_ceiling = TimeSpan.FromSeconds(60);

    [Test]
    public async Task Client_reset_mid_body_leaves_the_server_serving()
    {
        using var ceiling = new CancellationTokenSource(s_ceiling);
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Loopback, Server.Http.Port, ceiling.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 104857600\r\n\r\n"), SocketFlags.None, ceiling.Token);
            byte[] part = new byte[1 << 20];
            DeterministicBytes.Fill(0, part);
            await socket.SendAsync(part, SocketFlags.None, ceiling.Token);

            // Linger 0: closing sends RST instead of FIN, with 99 MiB of the body never sent.
            socket.LingerState = new LingerOption(true, 0);
        }

        using var client = new HttpClient { Timeout = s_ceiling };
        Assert.That(await client.GetStringAsync(new Uri(Server.Http, "plaintext")), Is.EqualTo("Hello, World!"));
        using HttpResponseMessage upload = await client.PostAsync(new Uri(Server.Http, "upload"), new DeterministicContent(1 << 20));
        Assert.That(upload.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Shutdown_lets_a_download_in_flight_finish_then_closes_every_connection()
    {
        const long size = 64L << 20;
        using var ceiling = new CancellationTokenSource(s_ceiling);
        SampleServer server = await SampleServer.StartAsync(Transport);
        try
        {
            using var idle = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await idle.ConnectAsync(IPAddress.Loopback, server.Http.Port, ceiling.Token);
            await idle.SendAsync("GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray(), SocketFlags.None, ceiling.Token);
            await using var idleStream = new NetworkStream(idle);
            string idleHead = await ReadHeadAsync(idleStream, ceiling.Token);
            Assert.That(idleHead, Does.StartWith("HTTP/1.1 200 "));
            byte[] hello = new byte[13];
            await idleStream.ReadExactlyAsync(hello, ceiling.Token);

            // A download whose first bytes have arrived is in flight; the rest waits for the client to read it.
            using var busy = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            busy.ReceiveBufferSize = 64 * 1024;
            await busy.ConnectAsync(IPAddress.Loopback, server.Http.Port, ceiling.Token);
            await busy.SendAsync(Encoding.ASCII.GetBytes($"GET /download?size={size} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), SocketFlags.None, ceiling.Token);
            await using var busyStream = new NetworkStream(busy);
            string busyHead = await ReadHeadAsync(busyStream, ceiling.Token);
            Assert.That(busyHead, Does.StartWith("HTTP/1.1 200 "));

            Task stopping = server.StopAsync();
            await WaitUntilRefusedAsync(server.Http.Port, ceiling.Token);

            long received = await ReadAndCheckAsync(busyStream, size, ceiling.Token);
            Assert.That(received, Is.EqualTo(size), "the download in flight when the stop began");
            Assert.That(await busyStream.ReadAsync(new byte[1], ceiling.Token), Is.Zero, "the busy connection is closed after its response");
            Assert.That(await idleStream.ReadAsync(new byte[1], ceiling.Token), Is.Zero, "the idle connection is closed by the stop");
            await stopping.WaitAsync(ceiling.Token);
            Assert.That(stopping.IsCompletedSuccessfully, Is.True);
        }
        finally
        {
            await server.DisposeAsync();
        }

        await ServerConnections.AssertNoneLeftOpenAsync(server.Ports);
    }

    [Test]
    public async Task Start_on_a_taken_port_fails_with_address_in_use()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var options = new SampleOptions
        {
            Transport = Transport == EndToEndTransport.Sockets ? SampleTransport.Sockets : SampleTransport.Miniss,
            Backend = Transport == EndToEndTransport.MinissEpoll ? IoBackendKind.Epoll : IoBackendKind.Auto,
        };
        options.Urls.Add($"http://127.0.0.1:{port}");
        await using WebApplication app = SampleApp.Build(options, static b => b.Logging.ClearProviders());

        IOException? failure = Assert.ThrowsAsync<IOException>(() => app.StartAsync(CancellationToken.None));

        Assert.That(failure!.InnerException, Is.InstanceOf<AddressInUseException>(), failure.ToString());
        Assert.That(failure.Message, Does.Contain($"127.0.0.1:{port}"));
    }

    /// <summary>Connects until the server refuses (its listeners are closed: the stop has begun), or resets a connection
    /// that was waiting in the queue of a listener being closed; connections that still get in are closed at once.</summary>
    private static async Task WaitUntilRefusedAsync(int port, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
            {
                return;
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        byte[] one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                throw new EndOfStreamException($"the connection closed within the response head: {head}");
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    private static async Task<long> ReadAndCheckAsync(NetworkStream stream, long size, CancellationToken cancellationToken)
    {
        byte[] received = new byte[64 * 1024];
        byte[] expected = new byte[received.Length];
        long offset = 0;
        while (offset < size)
        {
            int count = await stream.ReadAsync(received.AsMemory(0, (int)Math.Min(received.Length, size - offset)), cancellationToken);
            if (count == 0)
            {
                break;
            }

            DeterministicBytes.Fill(offset, expected.AsSpan(0, count));
            Assert.That(received.AsSpan(0, count).SequenceEqual(expected.AsSpan(0, count)), Is.True, $"bytes from {offset} differ");
            offset += count;
        }

        return offset;
    }
}
