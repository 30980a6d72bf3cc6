using System;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Miniss;
using Miniss.Hosting;
using Miniss.Net;
using Miniss.Samples.Http;

// A minimal HTTP/1.1 plaintext server: every shard accepts its own connections (SO_REUSEPORT) and answers each request
// "Hello, World!". Connections are kept alive, and pipelined requests are answered in order with one send per batch.
// Request bodies are read by Content-Length and dropped: this serves GETs. Try it with: curl http://localhost:8080/
//
// Limits on hostile input (HelloServerOptions): request line and headers at most 16 KiB (else 414 or 431), the whole
// head within 10 s of its first byte (else 408), a well-formed request line (else 400); each refusal closes the
// connection, and a connection holds at most 32 KiB of input whatever its client sends.
//
// On the .NET Generic Host: --port N (default 8080), the runtime's options as configuration (Miniss__Backend=epoll,
// --Miniss:ShardCount 2, a "Miniss" section in appsettings.json); Ctrl-C or SIGTERM stops it gracefully.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
int port = builder.Configuration.GetValue("port", 8080);
builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"));
builder.Services.AddShardServer(new IPEndPoint(IPAddress.Any, port), HelloServer.HandleAsync);
using IHost host = builder.Build();
await host.StartAsync();

MinissRuntime runtime = host.Services.GetRequiredService<MinissRuntime>();
ShardServer server = host.Services.GetRequiredService<HostedShardServer>().Server;
Console.WriteLine($"HTTP server on http://{server.LocalEndPoint}/, {runtime.ShardCount} shards; Ctrl-C stops it");
await host.WaitForShutdownAsync();
Console.WriteLine($"stopped after {server.AcceptedConnections} connections");
