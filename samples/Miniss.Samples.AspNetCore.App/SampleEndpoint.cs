using System;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Miniss.Samples.AspNetCore;

/// <summary>What an endpoint of the sample speaks.</summary>
public enum SampleEndpointKind
{
    /// <summary>HTTP/1.1 in cleartext (<c>--urls http://</c>).</summary>
    Http,

    /// <summary>HTTP/2 in cleartext with prior knowledge (<c>--h2c</c>).</summary>
    H2c,

    /// <summary>HTTP/1.1 and HTTP/2 over TLS, chosen by ALPN (<c>--urls https://</c>).</summary>
    Https,
}

/// <summary>One endpoint the sample listens on: what it speaks, the URL it was given, and once the app has started,
/// the URL clients reach it at (with the port the system chose for port 0).</summary>
public sealed class SampleEndpoint
{
    private readonly ListenOptions? _listen;
    private readonly string _scheme;

    internal SampleEndpoint(SampleEndpointKind kind, string configuredUrl, string scheme, ListenOptions? listen)
    {
        Kind = kind;
        ConfiguredUrl = configuredUrl;
        _scheme = scheme;
        _listen = listen;
    }

    /// <summary>What the endpoint speaks.</summary>
    public SampleEndpointKind Kind { get; }

    /// <summary>The URL as given in <see cref="SampleOptions"/>.</summary>
    public string ConfiguredUrl { get; }

    /// <summary>The URL to reach it at: the bound address and port of an IP endpoint once the app has started (Kestrel
    /// writes them back when it binds), else <see cref="ConfiguredUrl"/>.</summary>
    public Uri Uri => _listen?.EndPoint is IPEndPoint bound
        ? new Uri(string.Create(CultureInfo.InvariantCulture, $"{_scheme}://{Host(bound.Address)}:{bound.Port}/"))
        : new Uri(ConfiguredUrl);

    /// <summary>The URL and what it speaks, for the start-up line.</summary>
    public override string ToString() => Kind switch
    {
        SampleEndpointKind.Http => $"{Uri} (HTTP/1.1)",
        SampleEndpointKind.H2c => $"{Uri} (HTTP/2, prior knowledge)",
        _ => $"{Uri} (HTTP/1.1 and HTTP/2 over TLS)",
    };

    private static string Host(IPAddress address)
    {
        // Any address is listened on; loopback reaches it from this machine.
        if (address.Equals(IPAddress.Any))
        {
            return "127.0.0.1";
        }

        if (address.Equals(IPAddress.IPv6Any))
        {
            return "[::1]";
        }

        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
    }
}
