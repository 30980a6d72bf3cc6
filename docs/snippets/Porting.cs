using System;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Miniss.AspNetCore;
using Miniss.Hosting;
using Miniss.Net;

namespace Miniss.Docs.Snippets;

/// <summary>The snippets of the porting guide.</summary>
internal static class Porting
{
    // <socket-before>
    internal static async Task SocketEchoAsync(TcpListener listener)
    {
        while (true)
        {
            Socket socket = await listener.AcceptSocketAsync();
            _ = Task.Run(async () =>
            {
                using (socket)
                {
                    byte[] buffer = new byte[4096];
                    int received;
                    while ((received = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                    {
                        await socket.SendAsync(buffer.AsMemory(0, received), SocketFlags.None);
                    }
                }
            });
        }
    }
    // </socket-before>

    // <socket-after>
    internal static async Task<ShardServer> MinissEchoAsync(MinissRuntime runtime, IPEndPoint endPoint)
    {
        // No accept loop and no Task.Run: every shard accepts, and each handler runs on its connection's shard.
        return await ShardServer.StartAsync(runtime, endPoint, static async connection =>
        {
            byte[] buffer = new byte[4096];
            int received;
            while ((received = await connection.ReceiveAsync(buffer)) > 0)
            {
                await connection.SendAsync(buffer.AsMemory(0, received));
            }
        });
    }
    // </socket-after>

    internal static async Task KestrelAsync(string[] args)
    {
        // <kestrel>
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        builder.WebHost.UseMiniss(transport =>
        {
            transport.MaxConnectionsPerShard = 10_000;
        });
        WebApplication app = builder.Build();
        app.MapGet("/plaintext", () => "Hello, World!");
        app.MapGet("/shard", () => $"served on shard {Miniss.Shard.Current?.Id}");
        await app.RunAsync();
        // </kestrel>
    }

    internal static async Task GenericHostAsync(string[] args)
    {
        // <generic-host>
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"));    // Miniss:ShardCount, Miniss:Backend...
        builder.Services.AddShardServer(new IPEndPoint(IPAddress.Any, 7000), EchoAsync);
        await builder.Build().RunAsync();
        // </generic-host>
    }

    private static async ValueTask EchoAsync(ShardConnection connection)
    {
        byte[] buffer = new byte[4096];
        int received;
        while ((received = await connection.ReceiveAsync(buffer)) > 0)
        {
            await connection.SendAsync(buffer.AsMemory(0, received));
        }
    }

    internal static async Task<string> HttpFromShardAsync(MinissRuntime runtime, Uri uri)
    {
        // <await-outside>
        return await runtime.SubmitTo(0, async () =>
        {
            // A Task of .NET's own I/O completes on the thread pool; the plain await resumes on shard 0 (the shard's
            // SynchronizationContext is current). ConfigureAwait(false) would resume off the shard.
            using var http = new System.Net.Http.HttpClient();
            string body = await http.GetStringAsync(uri);
            return $"{body.Length} characters, back on shard {Shard.Current!.Id}";
        });
        // </await-outside>
    }
}
