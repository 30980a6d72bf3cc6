using System;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Miniss.Samples.AspNetCore;

namespace Miniss.NetBenchmarks;

/// <summary>The ASP.NET Core sample (samples/Miniss.Samples.AspNetCore), the same app on each of Kestrel's transports
/// the Kestrel benchmark compares; the Miniss backend comes from <c>MINISS_BACKEND</c>, set by the runner.</summary>
internal static class AspNet
{
    /// <summary>Serves the sample on <c>http://127.0.0.1:PORT</c> (HTTP/1.1) until <paramref name="stop"/> completes.</summary>
    /// <param name="transport"><c>miniss</c>, <c>sockets</c> or <c>sockets-inline</c>.</param>
    /// <param name="port">The loopback port.</param>
    /// <param name="stop">Completes when the parent closes standard input.</param>
    public static async Task ServeAsync(string transport, int port, Task stop)
    {
        var options = new SampleOptions
        {
            Transport = transport switch
            {
                "miniss" => SampleTransport.Miniss,
                "sockets" => SampleTransport.Sockets,
                "sockets-inline" => SampleTransport.SocketsInline,
                _ => throw new ArgumentException($"no ASP.NET Core transport {transport}; use miniss, sockets or sockets-inline", nameof(transport)),
            },
        };
        options.Urls.Add($"http://127.0.0.1:{port}");
        await using WebApplication app = SampleApp.Build(options, static builder => builder.Logging.ClearProviders());
        await app.StartAsync().ConfigureAwait(false);
        Console.WriteLine($"listening {port}");
        await stop.ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
    }
}
