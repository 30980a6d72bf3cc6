using System;
using System.Net;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Miniss.Net;
using Miniss.Samples.Http;

namespace Miniss.NetBenchmarks;

/// <summary>The two plaintext HTTP servers that wrk loads: the HTTP sample's own handler on Miniss, and a minimal
/// Kestrel app giving the same "Hello, World!" response.</summary>
internal static class Http
{
    private static readonly byte[] s_body = "Hello, World!"u8.ToArray();

    /// <summary>The HTTP sample: <see cref="HelloServer.HandleAsync(ShardConnection)"/> on every shard, as its Program.cs serves it.</summary>
    public static async Task ServeMinissAsync(int port, Task stop)
    {
        await using MinissRuntime runtime = MinissRuntime.Start();
        await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Loopback, port), HelloServer.HandleAsync);
        Console.WriteLine($"listening {port}");
        await stop.ConfigureAwait(false);
    }

    /// <summary>Kestrel with no middleware, routing or logging: one terminal handler writing the 13-byte body with
    /// its Content-Length, the shape of the TechEmpower plaintext entries.</summary>
    public static async Task ServeKestrelAsync(int port, Task stop)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using WebApplication app = builder.Build();
        app.Run(static context =>
        {
            HttpResponse response = context.Response;
            response.StatusCode = 200;
            response.ContentType = "text/plain";
            response.ContentLength = s_body.Length;
            return response.Body.WriteAsync(s_body).AsTask();
        });
        await app.StartAsync().ConfigureAwait(false);
        Console.WriteLine($"listening {port}");
        await stop.ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
    }
}
