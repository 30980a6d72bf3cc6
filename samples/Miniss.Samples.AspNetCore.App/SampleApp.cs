using System;
using System.Collections.Generic;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Miniss.AspNetCore;
using Miniss.Hosting;
using Miniss.IO;
using Miniss.Samples.AspNetCore.Endpoints;

namespace Miniss.Samples.AspNetCore;

/// <summary>
/// Builds the sample app: Kestrel on the chosen transport, listening where <see cref="SampleOptions"/> says, serving
/// <c>GET /plaintext</c>, <c>GET /json</c>, <c>POST /upload</c>, <c>GET /download?size=N</c> and the WebSocket echo
/// <c>/ws</c>. The program runs it; tests and benchmarks build the same app in their own process.
/// </summary>
public static class SampleApp
{
    /// <summary>Builds the app without starting it; its endpoints are in <see cref="Endpoints"/>.</summary>
    /// <param name="options">Transport, endpoints and limits.</param>
    /// <param name="configure">Changes the builder last (logging, more services), or <see langword="null"/>.</param>
    /// <exception cref="SampleUsageException">A URL the sample cannot listen on (a host name other than localhost, a
    /// scheme other than http and https, h2c on https).</exception>
    /// <exception cref="CryptographicException"><see cref="SampleOptions.CertificatePath"/> cannot be read as PKCS#12.</exception>
    public static WebApplication Build(SampleOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        // Every URL is checked here, so a bad one is a usage error before anything starts.
        var planned = new List<(string Url, BindingAddress Address, SampleEndpointKind Kind)>();
        foreach (string url in options.Urls.Count == 0 && options.H2cUrls.Count == 0 ? ["http://127.0.0.1:8080"] : options.Urls)
        {
            BindingAddress address = Parse(url);
            planned.Add((url, address, address.Scheme == "https" ? SampleEndpointKind.Https : SampleEndpointKind.Http));
        }

        foreach (string url in options.H2cUrls)
        {
            BindingAddress address = Parse(url);
            if (address.Scheme != "http")
            {
                throw new SampleUsageException($"--h2c {url}: cleartext HTTP/2 needs an http:// URL (HTTP/2 over TLS is on the https:// URLs of --urls)");
            }

            planned.Add((url, address, SampleEndpointKind.H2c));
        }

        X509Certificate2? certificate = null;
        if (planned.Exists(static p => p.Kind == SampleEndpointKind.Https))
        {
            certificate = options.Certificate
                ?? (options.CertificatePath is { } path
                    ? X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword)
                    : SelfSignedCertificate.Create());
        }

        switch (options.Transport)
        {
            case SampleTransport.Miniss:
                IoBackendKind backend = options.Backend;
                builder.Services.AddMiniss(runtime =>
                {
                    if (backend != IoBackendKind.Auto)
                    {
                        runtime.Backend = backend;
                    }
                });
                builder.WebHost.UseMiniss();
                break;
            case SampleTransport.SocketsInline:
                builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
                break;
            default:
                builder.WebHost.UseSockets();
                break;
        }

        var endpoints = new List<SampleEndpoint>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            foreach ((string url, BindingAddress address, SampleEndpointKind kind) in planned)
            {
                Listen(kestrel, endpoints, url, address, kind, listen =>
                {
                    listen.Protocols = kind switch
                    {
                        SampleEndpointKind.Http => HttpProtocols.Http1,
                        SampleEndpointKind.H2c => HttpProtocols.Http2,
                        _ => HttpProtocols.Http1AndHttp2,
                    };
                    if (kind == SampleEndpointKind.Https)
                    {
                        listen.UseHttps(certificate!);
                    }
                });
            }
        });
        builder.Services.AddSingleton(new SampleEndpoints(endpoints));
        configure?.Invoke(builder);

        WebApplication app = builder.Build();
        app.UseWebSockets();
        app.MapGet("/plaintext", (RequestDelegate)PlaintextEndpoint.HandleAsync);
        app.MapGet("/json", (RequestDelegate)JsonEndpoint.HandleAsync);
        app.MapPost("/upload", (RequestDelegate)new UploadEndpoint(options.MaxUploadBytes).HandleAsync);
        app.MapGet("/download", (RequestDelegate)new DownloadEndpoint(options.MaxDownloadBytes).HandleAsync);
        app.Map("/ws", (RequestDelegate)WebSocketEchoEndpoint.HandleAsync);
        return app;
    }

    /// <summary>The endpoints <see cref="Build"/> configured for <paramref name="app"/>, in the order given (URLs, then
    /// h2c URLs); their <see cref="SampleEndpoint.Uri"/> holds the bound port once the app has started.</summary>
    public static IReadOnlyList<SampleEndpoint> Endpoints(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<SampleEndpoints>().All;
    }

    private static BindingAddress Parse(string url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException e)
        {
            throw new SampleUsageException($"{url} is not a URL to listen on, as http://127.0.0.1:8080 is: {e.Message}", e);
        }

        if (address.Scheme is not ("http" or "https"))
        {
            throw new SampleUsageException($"{url}: the sample serves http:// and https:// URLs");
        }

        if (!address.IsUnixPipe && !IsAnyAddress(address.Host) && !string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase)
            && !IPAddress.TryParse(address.Host.Trim('[', ']'), out _))
        {
            throw new SampleUsageException($"{url}: listen on an IP address, localhost, * or unix:/PATH; a host name like {address.Host} cannot be bound");
        }

        return address;
    }

    private static bool IsAnyAddress(string host) => host is "*" or "+" or "[::]" or "0.0.0.0";

    private static void Listen(KestrelServerOptions kestrel, List<SampleEndpoint> endpoints, string url, BindingAddress address, SampleEndpointKind kind, Action<ListenOptions> configure)
    {
        if (address.IsUnixPipe)
        {
            kestrel.ListenUnixSocket(address.UnixPipePath, listen =>
            {
                configure(listen);
                endpoints.Add(new SampleEndpoint(kind, url, address.Scheme, listen: null));
            });
        }
        else if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, listen =>
            {
                configure(listen);
                endpoints.Add(new SampleEndpoint(kind, url, address.Scheme, listen: null));
            });
        }
        else if (IsAnyAddress(address.Host))
        {
            kestrel.ListenAnyIP(address.Port, listen =>
            {
                configure(listen);
                endpoints.Add(new SampleEndpoint(kind, url, address.Scheme, listen));
            });
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(address.Host.Trim('[', ']')), address.Port, listen =>
            {
                configure(listen);
                endpoints.Add(new SampleEndpoint(kind, url, address.Scheme, listen));
            });
        }
    }

    private sealed class SampleEndpoints(List<SampleEndpoint> all)
    {
        public IReadOnlyList<SampleEndpoint> All => all;
    }

}
