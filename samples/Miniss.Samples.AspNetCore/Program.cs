using System;
using System.IO;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Miniss.Samples.AspNetCore;

// An ASP.NET Core minimal API on Kestrel, whose connections come from Miniss shards (or, as the control, from
// Kestrel's Sockets transport): GET /plaintext, GET /json, POST /upload, GET /download?size=N and the WebSocket echo
// /ws. SIGTERM or Ctrl-C stops it gracefully: listening stops, requests in flight finish (within --shutdown-timeout),
// then connections close. Try it with:
//   dotnet run --project samples/Miniss.Samples.AspNetCore -- --urls "http://127.0.0.1:8080;https://127.0.0.1:8443" --h2c http://127.0.0.1:8081
//   curl http://127.0.0.1:8080/json; curl --http2-prior-knowledge http://127.0.0.1:8081/plaintext; curl -k https://127.0.0.1:8443/plaintext
// Exit codes: 0 stopped by a signal, 1 could not start (a taken port, io_uring forced but unusable...), 2 usage.
SampleOptions options;
WebApplication app;
try
{
    options = SampleOptions.Parse(args);
    app = SampleApp.Build(options, static builder =>
    {
        // The host's own report of a failed start carries a stack trace; this program says it in one line instead.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
    });
}
catch (SampleUsageException e)
{
    Console.Error.WriteLine($"miniss-aspnet: {e.Message}");
    Console.Error.WriteLine(SampleOptions.Usage);
    return 2;
}
catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"miniss-aspnet: cannot load the certificate: {OneLine(e)}");
    return 1;
}

await using (app)
{
    try
    {
        await app.StartAsync().ConfigureAwait(false);
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        // A taken port (Kestrel's IOException "Failed to bind to address ... address already in use"), a refused
        // backend, a permission: the reason is in the message; the rest of the trace helps no user.
        string hint = e is IOException { InnerException: AddressInUseException } ? "; stop what listens there or choose another port with --urls" : string.Empty;
        Console.Error.WriteLine($"miniss-aspnet: cannot start: {OneLine(e)}{hint}");
        return 1;
    }

    Console.WriteLine($"miniss-aspnet on {options.Transport.ToString().ToLowerInvariant()}: {string.Join(", ", SampleApp.Endpoints(app))}; SIGTERM or Ctrl-C stops it");
    await app.WaitForShutdownAsync().ConfigureAwait(false);
}

return 0;

// The message and those of its causes, on one line.
static string OneLine(Exception e)
{
    string line = e.Message;
    for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
    {
        if (!line.Contains(inner.Message.TrimEnd('.'), StringComparison.OrdinalIgnoreCase))
        {
            line += ": " + inner.Message;
        }
    }

    return line.ReplaceLineEndings(" ");
}
