using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Miniss.AspNetCore.Internal;
using Miniss.IO;

namespace Miniss.AspNetCore.Tests.Transport;

/// <summary>A web application on <c>UseMiniss</c> (two shards, one backend), started, with what its tests look at.</summary>
internal sealed class TransportApp : IAsyncDisposable
{
    private TransportApp(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
        Factory = app.Services.GetServices<IConnectionListenerFactory>().OfType<MinissTransportFactory>().Single();
        Runtime = app.Services.GetRequiredService<MinissRuntime>();
    }

    public WebApplication App { get; }

    /// <summary>The address served (the port the kernel chose), or a placeholder for a Unix socket.</summary>
    public Uri Address { get; }

    public MinissTransportFactory Factory { get; }

    public MinissRuntime Runtime { get; }

    /// <summary>Builds and starts the application; <paramref name="map"/> adds its endpoints.</summary>
    public static async Task<TransportApp> StartAsync(IoBackendKind backend, Action<WebApplication> map,
        Action<KestrelServerOptions>? listen = null, Action<MinissTransportOptions>? transport = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration["Miniss:ShardCount"] = "2";
        builder.Configuration["Miniss:Backend"] = backend.ToString();
        builder.Configuration["Miniss:PinThreads"] = "false";
        builder.WebHost.UseMiniss(transport);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (listen is null)
            {
                kestrel.Listen(IPAddress.Loopback, 0);
            }
            else
            {
                listen(kestrel);
            }
        });
        WebApplication app = builder.Build();
        map(app);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // The runtime may have started before the failure: the provider stops it.
            await app.DisposeAsync();
            throw;
        }

        string first = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Uri address = first.StartsWith("http://unix:", StringComparison.Ordinal) ? new Uri("http://localhost/") : new Uri(first);
        return new TransportApp(app, address);
    }

    /// <summary>A client of the application; <paramref name="unixSocket"/>: connects to that socket whatever the URI.</summary>
    public static HttpClient Client(string? unixSocket = null)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (unixSocket is not null)
        {
            handler.ConnectCallback = async (context, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(unixSocket), token);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>Waits (at most 60 s) until <paramref name="condition"/> holds; false if it never did.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await App.StopAsync(stop.Token);
        await App.DisposeAsync();
    }
}
