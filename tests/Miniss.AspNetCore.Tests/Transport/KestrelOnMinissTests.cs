using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
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
}
