using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;
using Miniss.Net;
using Miniss.Samples.Http;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>
/// The HTTP sample's handler (<see cref="HelloServer"/>) against hostile and malformed input, served on loopback and
/// driven by raw sockets: every limit is answered with its status and a close, the memory a connection holds stays
/// bounded whatever its client sends, and well-formed requests (pipelined, trickled, with bodies) are answered exactly.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class HttpLimitsTests(IoBackendKind backend) : BackendFixture(backend)
{
    private const int HeadLimit = 16 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly byte[] EndlessHeadStart = "GET / HTTP/1.1\r\nHost: x\r\nX: "u8.ToArray();

    [Test, CancelAfter(120_000)]
    public async Task An_endless_header_gets_431_and_a_close_with_bounded_memory_while_another_client_is_served(CancellationToken token)
    {
        var pool = new CountingMemoryPool();
        var options = new HelloServerOptions
        {
            HeaderTimeout = Timeout.InfiniteTimeSpan,
            Pipe = new ConnectionPipeOptions { Pool = pool, MaxBufferedInput = 2 * HeadLimit },
        };
        await using var scope = RuntimeScope.Start(shards: 1, detectStalls: false);
        await using ShardServer server = await StartAsync(scope, options, token);

        using Socket hostile = await ConnectDotNetAsync(server.LocalEndPoint, token);
        Task<string> answer = ReadToCloseAsync(hostile, token);
        await hostile.SendAsync(EndlessHeadStart, token);
        byte[] chunk = new byte[8 * 1024];
        chunk.AsSpan().Fill((byte)'a');
        await hostile.SendAsync(chunk, token);

        // Half the limit is pending on the only shard: another client is answered meanwhile.
        string other = await ExchangeAsync(server.LocalEndPoint, "GET / HTTP/1.1\r\nHost: y\r\nConnection: close\r\n\r\n"u8.ToArray(), token);
        Assert.That(other, Is.EqualTo(Ok), "the other client's answer");
        Assert.That(answer.IsCompleted, Is.False, "the endless header is still within the limit and its connection open");

        // Then the header goes on, up to 4 MiB, or until the server closes the connection.
        long sent = EndlessHeadStart.Length + chunk.Length;
        while (sent < (4 << 20) && !answer.IsCompleted)
        {
            try
            {
                sent += await hostile.SendAsync(chunk, token).AsTask().WaitAsync(Bound, token);
            }
            catch (SocketException)
            {
                break;
            }
        }

        string response = await answer.WaitAsync(Bound, token);
        Assert.That(response, Does.StartWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        Assert.That(response, Does.Contain("Connection: close\r\n"));
        await Bounded.Eventually(() => server.ActiveConnections == 0, "the server closed the connection", token);

        // The pipes took all their memory from the counting pool: the endless header's input never held more than the
        // bound, beside a few 4 KiB segments (a partly consumed one, a partly filled one, the answers' output).
        TestContext.Out.WriteLine($"{sent} bytes sent; the server's pipes held at most {pool.Peak} bytes");
        Assert.That(pool.Peak, Is.LessThanOrEqualTo(2 * HeadLimit + 8 * 4096), "bytes the server's pipes held at once");
        await Bounded.Eventually(() => pool.Rented == 0, "every pipe segment was returned", token);
    }

    [Test, CancelAfter(120_000)]
    public async Task An_8_MiB_header_gets_431_never_200(CancellationToken token)
    {
        byte[] request = new byte[EndlessHeadStart.Length + (8 << 20) + 4];
        EndlessHeadStart.CopyTo(request, 0);
        request.AsSpan(EndlessHeadStart.Length, 8 << 20).Fill((byte)'a');
        "\r\n\r\n"u8.CopyTo(request.AsSpan(request.Length - 4));
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await StartAsync(scope, HelloServerOptions.Default, token);

        string response = await ExchangeAsync(server.LocalEndPoint, request, token);

        Assert.That(response, Does.StartWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        Assert.That(response, Does.Not.Contain("200 OK"));
    }

    [Test, CancelAfter(60_000)]
    public async Task A_20_KiB_request_line_gets_414(CancellationToken token)
    {
        string request = $"GET /{new string('a', 20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n";
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await StartAsync(scope, HelloServerOptions.Default, token);

        string response = await ExchangeAsync(server.LocalEndPoint, Encoding.ASCII.GetBytes(request), token);

        Assert.That(response, Does.StartWith("HTTP/1.1 414 URI Too Long\r\n"));
    }

    [TestCase("HELLO\r\n\r\n", TestName = "{m}(one word)")]
    [TestCase("GET /\r\nHost: x\r\n\r\n", TestName = "{m}(no version)")]
    [TestCase("GET / HTTP/2.0\r\nHost: x\r\n\r\n", TestName = "{m}(not HTTP/1.x)")]
    [TestCase("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", TestName = "{m}(two spaces)")]
    [TestCase("GET /a\u0001b HTTP/1.1\r\nHost: x\r\n\r\n", TestName = "{m}(control byte in the target)")]
    [TestCase("G(T / HTTP/1.1\r\nHost: x\r\n\r\n", TestName = "{m}(separator in the method)")]
    [TestCase("GET / HTTP/1.1\nHost: x\n\n", TestName = "{m}(bare line feeds)")]
    [CancelAfter(60_000)]
    public async Task A_malformed_request_line_gets_400_and_a_close(string request, CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await StartAsync(scope, HelloServerOptions.Default, token);

        string response = await ExchangeAsync(server.LocalEndPoint, Encoding.Latin1.GetBytes(request), token);

        Assert.That(response, Does.StartWith("HTTP/1.1 400 Bad Request\r\n"));
        Assert.That(response, Does.Not.Contain("200 OK"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Half_a_request_line_is_closed_after_the_header_timeout(CancellationToken token)
    {
        var options = new HelloServerOptions { HeaderTimeout = TimeSpan.FromSeconds(1) };
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await StartAsync(scope, options, token);

        // The client sends half a request line and stops, without closing: only the server's timeout ends this.
        using Socket client = await ConnectDotNetAsync(server.LocalEndPoint, token);
        Task<string> answer = ReadToCloseAsync(client, token);
        await client.SendAsync("GET /ind"u8.ToArray(), token);

        string response = await answer.WaitAsync(Bound, token);
        Assert.That(response, Does.StartWith("HTTP/1.1 408 Request Timeout\r\n"));
        await Bounded.Eventually(() => server.ActiveConnections == 0, "the server closed the connection", token);
    }

    [Test, CancelAfter(60_000)]
    public async Task Pipelined_requests_in_one_write_are_answered_once_each_in_order(CancellationToken token)
    {
        byte[] requests = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await StartAsync(scope, HelloServerOptions.Default, token);

        string responses = await ExchangeAsync(server.LocalEndPoint, requests, token);

        Assert.That(responses, Is.EqualTo(Ok + Ok + Ok));
    }

    [Test, CancelAfter(60_000)]
    public async Task A_head_sent_one_byte_at_a_time_is_answered_once_and_the_connection_kept(CancellationToken token)
    {
        byte[] request = "GET /slow HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"u8.ToArray();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await StartAsync(scope, HelloServerOptions.Default, token);
        using Socket client = await ConnectDotNetAsync(server.LocalEndPoint, token);
        client.NoDelay = true;

        for (int i = 0; i < request.Length; i++)
        {
            await client.SendAsync(request.AsMemory(i, 1), token);
        }

        byte[] first = new byte[Ok.Length];
        await ReceiveExactlyAsync(client, first, token);
        Assert.That(Encoding.ASCII.GetString(first), Is.EqualTo(Ok), "the trickled request's answer");

        // The connection stays open for the next request.
        await client.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray(), token);
        Assert.That(await ReadToCloseAsync(client, token).WaitAsync(Bound, token), Is.EqualTo(Ok));
    }

    [Test, CancelAfter(60_000)]
    public async Task A_Content_Length_body_is_skipped_not_read_as_a_request(CancellationToken token)
    {
        // The body looks like a request: answering it would be answering bytes the client never meant as one.
        byte[] requests = Encoding.ASCII.GetBytes("POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 18\r\n\r\nGET / HTTP/1.1\r\n\r\n" +
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await StartAsync(scope, HelloServerOptions.Default, token);

        string responses = await ExchangeAsync(server.LocalEndPoint, requests, token);

        Assert.That(responses, Is.EqualTo(Ok + Ok));
    }

    private static string Ok => Encoding.ASCII.GetString(HelloServer.Response.Span);

    private static Task<ShardServer> StartAsync(RuntimeScope scope, HelloServerOptions options, CancellationToken token) =>
        ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, HelloServer.Handler(options)).Within(token);

    /// <summary>Sends <paramref name="request"/> on a new connection while reading, and returns all the server sent
    /// until it closed. A send the server cuts short (it refused the request and closed) is not a failure.</summary>
    private static async Task<string> ExchangeAsync(EndPoint server, byte[] request, CancellationToken token)
    {
        using Socket client = await ConnectDotNetAsync(server, token);
        Task<string> answer = ReadToCloseAsync(client, token);
        try
        {
            await client.SendAsync(request, token).AsTask().WaitAsync(Bound, token);
        }
        catch (SocketException)
        {
            // Reset or broken pipe: the server answered before the request ended, and closed.
        }

        return await answer.WaitAsync(Bound, token);
    }

    /// <summary>Everything received until the end of the stream, or until a reset after it (at most 1 MiB).</summary>
    private static async Task<string> ReadToCloseAsync(Socket client, CancellationToken token)
    {
        using var received = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int count;
            while ((count = await client.ReceiveAsync(buffer, token)) > 0 && received.Length < (1 << 20))
            {
                received.Write(buffer, 0, count);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // The close reset the connection (input left unread): what arrived before it is the answer.
        }

        return Encoding.Latin1.GetString(received.ToArray());
    }

    private static async Task ReceiveExactlyAsync(Socket client, Memory<byte> buffer, CancellationToken token)
    {
        while (!buffer.IsEmpty)
        {
            int count = await client.ReceiveAsync(buffer, token).AsTask().WaitAsync(Bound, token);
            if (count == 0)
            {
                Assert.Fail($"the server closed the connection with {buffer.Length} bytes of the answer still expected");
            }

            buffer = buffer[count..];
        }
    }
}
