using System;
using System.Net;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Miniss;
using Miniss.Hosting;
using Miniss.Net;

// An echo server on the .NET Generic Host: every shard listens on the port (SO_REUSEPORT), accepts its own connections
// and sends back what each one receives, until the client closes. Try it with: nc localhost 5000
// Options: --port N (default 5000), --max-connections N (default: the process's descriptor budget, see
// ShardServerOptions.MaxConnections), and the runtime's options as configuration: --Miniss:ShardCount 2,
// Miniss__Backend=epoll in the environment, or a "Miniss" section in appsettings.json. Ctrl-C or SIGTERM stops it
// gracefully (the host's console lifetime). The log goes to stderr, one line per message.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
int port = builder.Configuration.GetValue("port", 5000);
int? maxConnections = builder.Configuration.GetValue<int?>("max-connections");
builder.Logging.ClearProviders()
    .AddSimpleConsole(format => format.SingleLine = true)
    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"));
builder.Services.AddShardServer(new IPEndPoint(IPAddress.Any, port), EchoAsync, new ShardServerOptions { MaxConnections = maxConnections });
using IHost host = builder.Build();
await host.StartAsync();

MinissRuntime runtime = host.Services.GetRequiredService<MinissRuntime>();
ShardServer server = host.Services.GetRequiredService<HostedShardServer>().Server;
Console.WriteLine($"echo server on {server.LocalEndPoint}, {runtime.ShardCount} shards ({runtime.Backend.Name}); Ctrl-C stops it");
await host.WaitForShutdownAsync();
Console.WriteLine($"stopped after {server.AcceptedConnections} connections");
return 0;

// Runs on the shard that accepted the connection; every await resumes there.
static async ValueTask EchoAsync(ShardConnection connection)
{
    byte[] buffer = new byte[16 * 1024];
    int received;
    while ((received = await connection.ReceiveAsync(buffer)) > 0)
    {
        await connection.SendAsync(buffer.AsMemory(0, received));
    }
}
