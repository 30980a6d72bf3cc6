using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.AspNetCore.Tests.Transport;

/// <summary>Kestrel serving HTTP/1.1 through the Miniss transport, on every backend.</summary>
[TestFixtureSource(typeof(TransportBackends), nameof(TransportBackends.Available))]
[CancelAfter(120_000)]
public sealed class KestrelOnMinissTests(IoBackendKind backend)
{
    private static void MapEndpoints(WebApplication app)
    {
        app.MapGet("/hello", () => "Hello from Miniss");
        app.MapGet("/connection", (HttpContext context) => context.Connection.Id);
        app.MapGet("/shard", () => Shard.Current is { } shard ? shard.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none");
        app.MapGet("/shard-after-await", async () =>
        {
            await Task.Delay(1);
            return Shard.Current is { } shard ? shard.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none";
        });
        app.MapPost("/echo", async (HttpContext context) =>
        {
            context.Response.ContentType = "application/octet-stream";
            await context.Request.Body.CopyToAsync(context.Response.Body);
        });
        app.MapGet("/abort", (HttpContext context) =>
        {
            context.Abort();
            return Task.CompletedTask;
        });
        app.MapGet("/abort-elsewhere", async (HttpContext context) =>
        {
            // From a thread pool thread: the transport carries the abort to the connection's shard.
            await Task.Run(context.Abort).ConfigureAwait(false);
        });
    }

    [Test]
    public async Task Get_returns_200_and_the_body(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints);
        using HttpClient client = TransportApp.Client();
        using HttpResponseMessage response = await client.GetAsync(new Uri(app.Address, "/hello"), token);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(token), Is.EqualTo("Hello from Miniss"));
    }

    [Test]
    public async Task Listening_on_port_0_reports_the_bound_port(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints);
        Assert.That(app.Address.Port, Is.Not.Zero);
        using HttpClient client = TransportApp.Client();
        Assert.That(await client.GetStringAsync(new Uri(app.Address, "/hello"), token), Is.EqualTo("Hello from Miniss"));
    }

    [Test]
    public async Task ListenAnyIP_serves_IPv4_clients(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints, kestrel => kestrel.ListenAnyIP(0));
        using HttpClient client = TransportApp.Client();
        Assert.That(await client.GetStringAsync(new Uri($"http://127.0.0.1:{app.Address.Port}/hello"), token), Is.EqualTo("Hello from Miniss"));
    }

    [Test]
    public async Task Keep_alive_requests_reuse_one_connection(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints);
        using HttpClient client = TransportApp.Client();
        string first = await client.GetStringAsync(new Uri(app.Address, "/connection"), token);
        string second = await client.GetStringAsync(new Uri(app.Address, "/connection"), token);
        string third = await client.GetStringAsync(new Uri(app.Address, "/connection"), token);
        Assert.That(new[] { second, third }, Is.All.EqualTo(first));
        Assert.That(app.Factory.Listeners, Is.EqualTo(1));
        Assert.That(app.Factory.Connections, Is.EqualTo(1));
    }

    [Test]
    public async Task Post_body_is_echoed(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints);
        using HttpClient client = TransportApp.Client();

        // Larger than the transport's input and output bounds, so that both pipes pause and resume.
        byte[] body = new byte[3 << 20];
        new Random(14).NextBytes(body);
        using var content = new ByteArrayContent(body);
        using HttpResponseMessage response = await client.PostAsync(new Uri(app.Address, "/echo"), content, token);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        byte[] echoed = await response.Content.ReadAsByteArrayAsync(token);
        Assert.That(echoed.Length, Is.EqualTo(body.Length));
        Assert.That(echoed.AsSpan().SequenceEqual(body), Is.True);
    }

    [Test]
    public async Task A_request_the_server_aborts_closes_the_connection(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints);
        using HttpClient client = TransportApp.Client();
        Assert.ThrowsAsync<HttpRequestException>(async () => await client.GetAsync(new Uri(app.Address, "/abort"), token));
        Assert.That(await TransportApp.EventuallyAsync(() => app.Factory.Connections == 0), Is.True,
            $"{app.Factory.Connections} connections still open after the abort");

        // The server goes on serving, on a new connection.
        Assert.That(await client.GetStringAsync(new Uri(app.Address, "/hello"), token), Is.EqualTo("Hello from Miniss"));
    }

    [Test]
    public async Task A_request_aborted_off_the_shard_closes_the_connection(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints);
        using HttpClient client = TransportApp.Client();
        Assert.ThrowsAsync<HttpRequestException>(async () => await client.GetAsync(new Uri(app.Address, "/abort-elsewhere"), token));
        Assert.That(await TransportApp.EventuallyAsync(() => app.Factory.Connections == 0), Is.True,
            $"{app.Factory.Connections} connections still open after the abort");
    }

    [Test]
    public async Task A_client_that_disconnects_mid_request_aborts_the_request(CancellationToken token)
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TransportApp app = await TransportApp.StartAsync(backend, web => web.MapGet("/wait", async (HttpContext context) =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                aborted.TrySetResult();
            }
        }));
        using (var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, app.Address.Port), token);
            await socket.SendAsync("GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray(), token);
            await started.Task.WaitAsync(TimeSpan.FromSeconds(60), token);
        }

        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(60), token);
        Assert.That(await TransportApp.EventuallyAsync(() => app.Factory.Connections == 0), Is.True);
    }

    [Test]
    public async Task A_client_reset_mid_body_fails_the_body_read_and_frees_the_connection(CancellationToken token)
    {
        var failed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TransportApp app = await TransportApp.StartAsync(backend, web => web.MapPost("/upload", async (HttpContext context) =>
        {
            var buffer = new byte[4096];
            try
            {
                while (await context.Request.Body.ReadAsync(buffer, context.RequestAborted) > 0)
                {
                    reading.TrySetResult();
                }

                failed.TrySetException(new AssertionException("the body ended normally"));
            }
            catch (Exception e)
            {
                failed.TrySetResult(e);
            }
        }));
        using (var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, app.Address.Port), token);
            await socket.SendAsync("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1048576\r\n\r\n"u8.ToArray(), token);
            await socket.SendAsync(new byte[64 * 1024], token);
            await reading.Task.WaitAsync(TimeSpan.FromSeconds(60), token);

            // A reset, not an end of stream.
            socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
        }

        Exception error = await failed.Task.WaitAsync(TimeSpan.FromSeconds(60), token);
        Assert.That(error, Is.InstanceOf<IOException>().Or.InstanceOf<OperationCanceledException>(), error.ToString());
        Assert.That(await TransportApp.EventuallyAsync(() => app.Factory.Connections == 0), Is.True);
    }

    [Test]
    public async Task Least_loaded_distribution_spreads_connections_over_the_shards(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints,
            transport: options => options.Distribution = Net.ConnectionDistribution.LeastLoaded);
        var clients = new HttpClient[4];
        var shards = new string[4];
        try
        {
            for (int i = 0; i < clients.Length; i++)
            {
                // Each client keeps its connection open, so the next one goes to the shard that serves fewer.
                clients[i] = TransportApp.Client();
                shards[i] = await clients[i].GetStringAsync(new Uri(app.Address, "/shard"), token);
            }
        }
        finally
        {
            foreach (HttpClient? client in clients)
            {
                client?.Dispose();
            }
        }

        Assert.That(shards, Is.EquivalentTo(new[] { "0", "1", "0", "1" }));
    }

    [Test]
    public void A_transport_option_out_of_range_is_refused_with_its_name_and_value()
    {
        var error = Assert.CatchAsync(async () => await TransportApp.StartAsync(backend, MapEndpoints, transport: options => options.MaxBufferedInput = 0));
        Assert.That(error!.ToString(), Does.Contain("MinissTransportOptions.MaxBufferedInput is 0"));
    }

    [Test]
    public async Task A_unix_socket_endpoint_serves_requests(CancellationToken token)
    {
        string path = Path.Combine(Path.GetTempPath(), $"miniss-kestrel-{Guid.NewGuid():N}.sock");
        try
        {
            await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints, kestrel => kestrel.ListenUnixSocket(path));
            using HttpClient client = TransportApp.Client(path);
            Assert.That(await client.GetStringAsync(new Uri(app.Address, "/hello"), token), Is.EqualTo("Hello from Miniss"));
            string first = await client.GetStringAsync(new Uri(app.Address, "/connection"), token);
            Assert.That(await client.GetStringAsync(new Uri(app.Address, "/connection"), token), Is.EqualTo(first));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task Application_code_runs_on_a_shard_from_the_first_request_of_a_connection(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints);
        for (int i = 0; i < 20; i++)
        {
            // A new client each time: each request is the first of its connection, served from Kestrel's dispatch.
            using HttpClient client = TransportApp.Client();
            string shard = await client.GetStringAsync(new Uri(app.Address, "/shard"), token);
            Assert.That(shard, Is.AnyOf("0", "1"), $"request {i} ran off the shards");
        }
    }

    [Test]
    public async Task Queued_scheduling_serves_requests_and_bodies_on_the_shard(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints, transport: options => options.InlineScheduling = false);
        using HttpClient client = TransportApp.Client();
        Assert.That(await client.GetStringAsync(new Uri(app.Address, "/shard"), token), Is.AnyOf("0", "1"));
        byte[] body = new byte[1 << 20];
        new Random(15).NextBytes(body);
        using var content = new ByteArrayContent(body);
        using HttpResponseMessage response = await client.PostAsync(new Uri(app.Address, "/echo"), content, token);
        Assert.That((await response.Content.ReadAsByteArrayAsync(token)).AsSpan().SequenceEqual(body), Is.True);
    }

    [Test]
    public async Task Application_code_resumes_on_its_shard_after_an_await(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints);
        using HttpClient client = TransportApp.Client();
        for (int i = 0; i < 5; i++)
        {
            Assert.That(await client.GetStringAsync(new Uri(app.Address, "/shard-after-await"), token), Is.AnyOf("0", "1"));
        }
    }

    [Test]
    public async Task Http2_streams_are_served_on_their_connection_shard(CancellationToken token)
    {
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints,
            kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2));
        using HttpClient client = TransportApp.Client();
        var requests = new Task<HttpResponseMessage>[8];
        for (int i = 0; i < requests.Length; i++)
        {
            // Cleartext HTTP/2 with prior knowledge: every request a stream of one connection.
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(app.Address, i % 2 == 0 ? "/shard" : "/shard-after-await"))
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            requests[i] = client.SendAsync(request, token);
        }

        var shards = new string[requests.Length];
        for (int i = 0; i < requests.Length; i++)
        {
            using HttpResponseMessage response = await requests[i];
            Assert.That(response.Version, Is.EqualTo(HttpVersion.Version20));
            shards[i] = await response.Content.ReadAsStringAsync(token);
        }

        Assert.That(shards, Is.All.AnyOf("0", "1"));
        Assert.That(shards, Is.All.EqualTo(shards[0]), "the streams of one connection ran on different shards");
    }

    [Test]
    public async Task Https_negotiates_http2_by_alpn_and_serves_on_a_shard(CancellationToken token)
    {
        using System.Security.Cryptography.X509Certificates.X509Certificate2 certificate = SelfSignedCertificate();
        await using TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints,
            kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        var address = new Uri($"https://localhost:{app.Address.Port}/shard");
        for (int i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, address) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using HttpResponseMessage response = await client.SendAsync(request, token);
            Assert.That(response.Version, Is.EqualTo(HttpVersion.Version20));
            Assert.That(await response.Content.ReadAsStringAsync(token), Is.AnyOf("0", "1"));
        }
    }

    [Test]
    public async Task Stopping_the_host_leaves_no_connection_nor_pool_block_and_stops_the_runtime(CancellationToken token)
    {
        TransportApp app = await TransportApp.StartAsync(backend, MapEndpoints);
        using HttpClient first = TransportApp.Client();
        using HttpClient second = TransportApp.Client();
        Assert.That(await first.GetStringAsync(new Uri(app.Address, "/hello"), token), Is.EqualTo("Hello from Miniss"));
        Assert.That(await second.GetStringAsync(new Uri(app.Address, "/hello"), token), Is.EqualTo("Hello from Miniss"));

        // Both kept alive by their clients until the host stops.
        Assert.That(app.Factory.Connections, Is.EqualTo(2));
        await app.DisposeAsync();
        Assert.That(app.Factory.Connections, Is.Zero);
        Assert.That(app.Factory.Listeners, Is.Zero);
        Assert.That(app.Factory.RentedBlocks, Is.Zero);
        Assert.That(app.Runtime.IsStopping, Is.True);
        Assert.ThrowsAsync<ObjectDisposedException>(async () => await app.Runtime.SubmitTo(0, () => 1));
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2 SelfSignedCertificate()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=localhost", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var names = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using System.Security.Cryptography.X509Certificates.X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        // Exported and loaded again so that the private key is usable by SslStream on Linux.
        return System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(created.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx), null);
    }
}
