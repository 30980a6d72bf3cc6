using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Miniss.IO;

namespace Miniss.Samples.AspNetCore;

/// <summary>What the sample serves on, and its limits; <see cref="Parse"/> reads them from a command line.</summary>
public sealed class SampleOptions
{
    /// <summary>The command line's usage text.</summary>
    public const string Usage = """
        usage: miniss-aspnet [--transport miniss|sockets|sockets-inline] [--backend io_uring|epoll]
                             [--urls URL[;URL...]] [--h2c URL[;URL...]] [--certificate FILE.pfx [--certificate-password P]]
                             [--max-upload-bytes N] [--max-download-bytes N] [--shutdown-timeout SECONDS]
          --transport       Kestrel's transport: Miniss shards (the default), or its Sockets transport (sockets-inline:
                            with UnsafePreferInlineScheduling)
          --backend         the Miniss backend (default: io_uring when this process can use it, else epoll)
          --urls            HTTP/1.1 on http:// URLs, HTTP/1.1 and HTTP/2 (ALPN) on https:// URLs; an IP address,
                            localhost, * for every address, or unix:/PATH (default http://127.0.0.1:8080)
          --h2c             cleartext HTTP/2 with prior knowledge (curl --http2-prior-knowledge) on these http:// URLs
          --certificate     the TLS certificate of https:// URLs (PKCS#12); without it a self-signed one is made in
                            memory at start, which clients must be told to accept (curl -k)
          --max-upload-bytes    largest POST /upload body (default 1 GiB; larger ones get 413)
          --max-download-bytes  largest GET /download?size=N (default 4 GiB)
          --shutdown-timeout    how long requests in flight may take to finish at SIGTERM or Ctrl-C (default 30)
        """;

    /// <summary>Kestrel's transport; <see cref="SampleTransport.Miniss"/> by default.</summary>
    public SampleTransport Transport { get; set; } = SampleTransport.Miniss;

    /// <summary>The Miniss backend when <see cref="Transport"/> is Miniss; <see cref="IoBackendKind.Auto"/> (io_uring when
    /// usable, else epoll; <c>MINISS_BACKEND</c> may force one) by default.</summary>
    public IoBackendKind Backend { get; set; } = IoBackendKind.Auto;

    /// <summary>HTTP/1.1 endpoints (<c>http://</c>) and HTTP/1.1 + HTTP/2 endpoints with TLS (<c>https://</c>); port 0
    /// takes a free port. When both this and <see cref="H2cUrls"/> are empty the sample listens on
    /// <c>http://127.0.0.1:8080</c>.</summary>
    public IList<string> Urls { get; } = [];

    /// <summary>Cleartext HTTP/2 endpoints (prior knowledge, no HTTP/1.1), <c>http://</c> only.</summary>
    public IList<string> H2cUrls { get; } = [];

    /// <summary>The certificate of the <c>https://</c> endpoints, with its private key; the caller keeps ownership. When
    /// <see langword="null"/> and <see cref="CertificatePath"/> is too, a self-signed one is made at build time.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>A PKCS#12 file to load <see cref="Certificate"/> from when that is not set.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The password of <see cref="CertificatePath"/>, if it has one.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>The largest request body <c>POST /upload</c> accepts, in bytes; 1 GiB by default.</summary>
    public long MaxUploadBytes { get; set; } = 1L << 30;

    /// <summary>The largest <c>size</c> <c>GET /download</c> accepts, in bytes; 4 GiB by default.</summary>
    public long MaxDownloadBytes { get; set; } = 4L << 30;

    /// <summary>How long the host waits at shutdown for requests in flight before aborting their connections; 30 s by
    /// default.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Reads a command line (see <see cref="Usage"/>).</summary>
    /// <param name="args">The arguments, without the program's name.</param>
    /// <exception cref="SampleUsageException">An unknown option, a missing or malformed value.</exception>
    public static SampleOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new SampleOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (name is "-h" or "--help")
            {
                throw new SampleUsageException("the options are:");
            }

            if (i + 1 >= args.Count)
            {
                throw new SampleUsageException($"{name} needs a value, or is not an option of miniss-aspnet");
            }

            string value = args[++i];
            switch (name)
            {
                case "--transport":
                    options.Transport = value switch
                    {
                        "miniss" => SampleTransport.Miniss,
                        "sockets" => SampleTransport.Sockets,
                        "sockets-inline" => SampleTransport.SocketsInline,
                        _ => throw new SampleUsageException($"--transport {value} is not a transport; use miniss, sockets or sockets-inline"),
                    };
                    break;
                case "--backend":
                    try
                    {
                        options.Backend = IoBackendSelection.Parse(value);
                    }
                    catch (ArgumentException e)
                    {
                        throw new SampleUsageException($"--backend {value}: {e.Message}", e);
                    }

                    break;
                case "--urls":
                    AddUrls(options.Urls, name, value);
                    break;
                case "--h2c":
                    AddUrls(options.H2cUrls, name, value);
                    break;
                case "--certificate":
                    options.CertificatePath = value;
                    break;
                case "--certificate-password":
                    options.CertificatePassword = value;
                    break;
                case "--max-upload-bytes":
                    options.MaxUploadBytes = Bytes(name, value);
                    break;
                case "--max-download-bytes":
                    options.MaxDownloadBytes = Bytes(name, value);
                    break;
                case "--shutdown-timeout":
                    options.ShutdownTimeout = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0 && seconds <= 3600
                        ? TimeSpan.FromSeconds(seconds)
                        : throw new SampleUsageException($"--shutdown-timeout {value} is not a number of seconds from 0 to 3600");
                    break;
                default:
                    throw new SampleUsageException($"{name} is not an option of miniss-aspnet");
            }
        }

        return options;
    }

    private static void AddUrls(IList<string> urls, string name, string value)
    {
        foreach (string url in value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            urls.Add(url);
        }

        if (urls.Count == 0)
        {
            throw new SampleUsageException($"{name} needs at least one URL, as in {name} http://127.0.0.1:8080");
        }
    }

    private static long Bytes(string name, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long bytes)
            ? bytes
            : throw new SampleUsageException($"{name} {value} is not a whole number of bytes");
}
