using System;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Samples.AspNetCore;
using NUnit.Framework;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>Real clients (curl, HttpClient, ClientWebSocket) against the sample, each speaking what it speaks best.</summary>
[TestFixtureSource(typeof(EndToEndTransports), nameof(EndToEndTransports.Available))]
public sealed class ClientTests(EndToEndTransport transport) : EndToEndFixture(transport)
{
    private const string Hello = "Hello, World!";
    private const string HelloJson = """{"message":"Hello, World!"}""";

    [Test]
    public async Task Curl_http11_sends_two_requests_on_one_kept_alive_connection()
    {
        // -w prints, after each transfer, how many new connections it opened: 1 for the first, 0 for the reused one.
        ToolRun curl = await ToolRun.RunAsync("curl", "-s", "--http1.1", "-w", "|%{http_version}|%{num_connects}\n",
            new Uri(Server.Http, "plaintext").ToString(), new Uri(Server.Http, "json").ToString());

        Assert.That(curl.ExitCode, Is.Zero, curl.ToString());
        Assert.That(curl.Output, Is.EqualTo($"{Hello}|1.1|1\n{HelloJson}|1.1|0\n"));
    }

    [Test]
    public async Task Curl_http2_prior_knowledge_is_answered_on_the_h2c_endpoint()
    {
        // One URL per run: curl 7.88 fails (exit 16) when it reuses a prior-knowledge connection for a second URL,
        // whatever the server; HttpClient_multiplexes_... covers several requests on one HTTP/2 connection.
        ToolRun curl = await ToolRun.RunAsync("curl", "-s", "--http2-prior-knowledge", "-w", "|%{http_version}\n", new Uri(Server.H2c, "json").ToString());

        Assert.That(curl.ExitCode, Is.Zero, curl.ToString());
        Assert.That(curl.Output, Is.EqualTo($"{HelloJson}|2\n"));
    }

    [Test]
    public async Task Curl_https_with_the_test_certificate_negotiates_http2()
    {
        ToolRun curl = await ToolRun.RunAsync("curl", "-s", "-k", "-w", "|%{http_version}|%{ssl_verify_result}\n", new Uri(Server.Https, "json").ToString());

        Assert.That(curl.ExitCode, Is.Zero, curl.ToString());
        Assert.That(curl.Output, Does.StartWith($"{HelloJson}|2|"));
    }

    [Test]
    public async Task Curl_https_http11_is_served_when_asked_for()
    {
        ToolRun curl = await ToolRun.RunAsync("curl", "-s", "-k", "--http1.1", "-w", "|%{http_version}\n", new Uri(Server.Https, "plaintext").ToString());

        Assert.That(curl.ExitCode, Is.Zero, curl.ToString());
        Assert.That(curl.Output, Is.EqualTo($"{Hello}|1.1\n"));
    }

    [Test]
    public async Task HttpClient_gets_http2_over_tls_by_alpn()
    {
        using HttpClient client = TrustingClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Server.Https, "json"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using HttpResponseMessage response = await client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Version, Is.EqualTo(HttpVersion.Version20));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(HelloJson));
    }

    [Test]
    public async Task HttpClient_multiplexes_concurrent_http2_requests_on_one_tls_connection()
    {
        using HttpClient client = TrustingClient();
        client.DefaultRequestVersion = HttpVersion.Version20;
        client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        var responses = new Task<string>[64];
        for (int i = 0; i < responses.Length; i++)
        {
            responses[i] = client.GetStringAsync(new Uri(Server.Https, i % 2 == 0 ? "plaintext" : "json"));
        }

        string[] bodies = await Task.WhenAll(responses);

        for (int i = 0; i < bodies.Length; i++)
        {
            Assert.That(bodies[i], Is.EqualTo(i % 2 == 0 ? Hello : HelloJson), $"response {i}");
        }
    }

    [Test]
    public async Task WebSocket_echo_returns_every_message_as_sent()
    {
        using var socket = new ClientWebSocket();
        using var ceiling = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var uri = new UriBuilder(Server.Http) { Scheme = "ws", Path = "/ws" }.Uri;
        await socket.ConnectAsync(uri, ceiling.Token);

        byte[] text = Encoding.UTF8.GetBytes("ping from the test");
        byte[] large = new byte[1 << 20];
        DeterministicBytes.Fill(0, large);
        foreach ((byte[] message, WebSocketMessageType type) in new[] { (text, WebSocketMessageType.Text), (large, WebSocketMessageType.Binary), (Array.Empty<byte>(), WebSocketMessageType.Binary) })
        {
            await socket.SendAsync(message, type, endOfMessage: true, ceiling.Token);
            (byte[] echoed, WebSocketMessageType echoedType) = await ReceiveMessageAsync(socket, ceiling.Token);
            Assert.That(echoedType, Is.EqualTo(type));
            Assert.That(echoed, Is.EqualTo(message), $"a {message.Length}-byte {type} message");
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", ceiling.Token);
        Assert.That(socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.NormalClosure));
    }

    private static async Task<(byte[] Message, WebSocketMessageType Type)> ReceiveMessageAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var message = new System.IO.MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        while (true)
        {
            ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
            message.Write(buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                return (message.ToArray(), received.MessageType);
            }
        }
    }

    /// <summary>An HttpClient that trusts the test certificate, and only it.</summary>
    internal static HttpClient TrustingClient()
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = static (_, certificate, _, _) =>
                    certificate is not null && certificate.GetCertHashString() == SampleServer.Certificate.GetCertHashString(),
            },
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
    }
}
