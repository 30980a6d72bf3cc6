using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Miniss.AspNetCore;
using Miniss.Samples.AspNetCore;

namespace Miniss.Cli;

/// <summary><c>miniss serve aspnet</c>: the ASP.NET Core sample (samples/Miniss.Samples.AspNetCore: /plaintext, /json,
/// /upload, /download, /ws) on Kestrel over Miniss shards, until Ctrl-C or SIGTERM, which drain Kestrel's requests
/// within the shutdown timeout.</summary>
internal static class AspNetServeCommand
{
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(ServeOptions options, LogLevel level, ExitWatchdog watchdog)
    {
        var endPoint = new IPEndPoint(options.Address, options.Port);
        var sample = new SampleOptions { ShutdownTimeout = s_stopTimeout };
        sample.Urls.Add($"http://{(options.Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{options.Address}]" : options.Address.ToString())}:{options.Port}");
        WebApplication app = SampleApp.Build(sample, builder =>
        {
            builder.Logging.ClearProviders();
            ConsoleLogging.Configure(builder.Logging, level);

            // As for the other servers: the host's chatter and its stack-traced report of a failed start break the
            // one-line contract; Kestrel's own messages below Warning are noise here.
            builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.None)
                .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None)
                .AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.Services.Configure<ConsoleLifetimeOptions>(console => console.SuppressStatusMessages = true);
            builder.Services.PostConfigure<RuntimeOptions>(runtime =>
            {
                if (options.Shards is { } shards)
                {
                    runtime.ShardCount = shards;
                }
            });
            builder.Services.PostConfigure<MinissTransportOptions>(transport => transport.ShareAcrossProcesses = options.ReusePort);
        });

        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync().ConfigureAwait(false);
            }
            catch (IOException e) when (e.InnerException is AddressInUseException)
            {
                throw new CommandFailedException(
                    $"cannot listen on {endPoint}: port {endPoint.Port} is already in use by another process (EADDRINUSE): stop it, choose another --port, or pass --reuse-port to every server that should share the port", e);
            }
            catch (IOException e) when (FailureText.Find<SocketException>(e) is { } socket)
            {
                throw new CommandFailedException($"cannot listen on {endPoint}: {socket.Message} ({socket.SocketErrorCode})", e);
            }

            IHostApplicationLifetime lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            using var guard = new HostStopGuard(watchdog, Program.RuntimeFailure, lifetime.ApplicationStopping);
            MinissRuntime runtime = app.Services.GetRequiredService<MinissRuntime>();
            Console.WriteLine($"aspnet server on {string.Join(", ", SampleApp.Endpoints(app))}: GET /plaintext, /json, /download?size=N, POST /upload, WebSocket /ws; " +
                $"{runtime.ShardCount} shards, backend {runtime.Backend.Name}; Ctrl-C stops it");
            await app.WaitForShutdownAsync().ConfigureAwait(false);
        }

        return 0;
    }
}
