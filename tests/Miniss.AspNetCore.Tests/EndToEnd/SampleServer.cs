using System;
using System.Collections.Generic;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Miniss.IO;
using Miniss.Samples.AspNetCore;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>
/// The sample app started in this process on one transport, on loopback ports the system chooses: HTTP/1.1, h2c
/// (prior knowledge) and HTTPS (HTTP/1.1 and HTTP/2 by ALPN) with a self-signed certificate made for the test run.
/// </summary>
internal sealed class SampleServer : IAsyncDisposable
{
    /// <summary>The certificate every test server presents; made in memory once, never written anywhere.</summary>
    public static readonly X509Certificate2 Certificate = SelfSignedCertificate.Create(TimeSpan.FromDays(1));

    private static readonly TimeSpan s_startCeiling = TimeSpan.FromSeconds(60);
    private readonly WebApplication _app;
    private bool _stopped;

    private SampleServer(WebApplication app)
    {
        _app = app;
        IReadOnlyList<SampleEndpoint> endpoints = SampleApp.Endpoints(app);
        foreach (SampleEndpoint endpoint in endpoints)
        {
            switch (endpoint.Kind)
            {
                case SampleEndpointKind.Http:
                    Http = endpoint.Uri;
                    break;
                case SampleEndpointKind.H2c:
                    H2c = endpoint.Uri;
                    break;
                default:
                    Https = endpoint.Uri;
                    break;
            }
        }

        Ports = [Http.Port, H2c.Port, Https.Port];
    }

    /// <summary>The HTTP/1.1 endpoint, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Http { get; } = null!;

    /// <summary>The cleartext HTTP/2 endpoint.</summary>
    public Uri H2c { get; } = null!;

    /// <summary>The HTTPS endpoint.</summary>
    public Uri Https { get; } = null!;

    /// <summary>The three ports, for <see cref="ServerConnections"/>.</summary>
    public IReadOnlyCollection<int> Ports { get; }

    /// <summary>Builds and starts the sample on <paramref name="transport"/>.</summary>
    /// <param name="transport">Kestrel's transport.</param>
    /// <param name="shutdownTimeout">How long a stop lets requests in flight finish (30 s by default).</param>
    public static async Task<SampleServer> StartAsync(EndToEndTransport transport, TimeSpan? shutdownTimeout = null)
    {
        var options = new SampleOptions
        {
            Transport = transport == EndToEndTransport.Sockets ? SampleTransport.Sockets : SampleTransport.Miniss,
            Backend = transport switch
            {
                EndToEndTransport.MinissIoUring => IoBackendKind.IoUring,
                EndToEndTransport.MinissEpoll => IoBackendKind.Epoll,
                _ => IoBackendKind.Auto,
            },
            Certificate = Certificate,
            ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(30),
        };
        options.Urls.Add("http://127.0.0.1:0");
        options.Urls.Add("https://127.0.0.1:0");
        options.H2cUrls.Add("http://127.0.0.1:0");
        WebApplication app = SampleApp.Build(options, static builder => builder.Logging.ClearProviders());
        using var ceiling = new CancellationTokenSource(s_startCeiling);
        await app.StartAsync(ceiling.Token);
        return new SampleServer(app);
    }

    /// <summary>Stops the app as SIGTERM would: listening stops, requests in flight finish, connections close.</summary>
    public async Task StopAsync()
    {
        _stopped = true;
        await _app.StopAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            await StopAsync();
        }

        await _app.DisposeAsync();
    }
}
