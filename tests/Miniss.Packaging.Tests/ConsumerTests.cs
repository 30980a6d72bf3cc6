using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Linq;
using System.Text;
using NUnit.Framework;

namespace Miniss.Packaging.Tests;

/// <summary>
/// Miniss is consumable as a library: its packages, restored from a local folder feed into a fresh project outside
/// the solution, build and run on every shard; Miniss.Hosting runs a server on a consumer's Generic Host.
/// </summary>
[TestFixture]
[Platform("Linux")]
public sealed class ConsumerTests
{
    private const string Version = "0.1.0-preview.1";
    private string _work = null!;

    [SetUp]
    public void SetUp() => _work = Directory.CreateTempSubdirectory("miniss-consumer-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_work, recursive: true);

    [Test, CancelAfter(600_000)]
    public void A_fresh_project_restores_the_packages_from_a_folder_feed_builds_and_runs_on_every_shard()
    {
        string feed = Pack("bindings/Miniss.Bindings/Miniss.Bindings.csproj", "runtime/Miniss.Runtime/Miniss.Runtime.csproj");

        Assert.That(File.Exists(Path.Combine(feed, $"Miniss.Runtime.{Version}.nupkg")), Is.True);
        Assert.That(File.Exists(Path.Combine(feed, $"Miniss.Runtime.{Version}.snupkg")), Is.True, "symbols are packed");

        string consumer = Consumer(feed);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Miniss.Runtime" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using System.Net;
            using Miniss;
            using Miniss.Net;
            using Miniss.Storage;

            await using var runtime = MinissRuntime.Start();
            await using var server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Loopback, 0), async connection =>
            {
                byte[] buffer = new byte[256];
                int received;
                while ((received = await connection.ReceiveAsync(buffer)) > 0)
                {
                    await connection.SendAsync(buffer.AsMemory(0, received));
                }
            });
            string[] echoes = await runtime.InvokeOnAll(async () =>
            {
                await using ShardConnection client = await ShardConnection.ConnectAsync(server.LocalEndPoint);
                byte[] message = System.Text.Encoding.ASCII.GetBytes($"echo from shard {Shard.Current!.Id}");
                await client.SendAsync(message);
                byte[] reply = new byte[message.Length];
                int total = 0;
                while (total < reply.Length)
                {
                    total += await client.ReceiveAsync(reply.AsMemory(total));
                }

                return System.Text.Encoding.ASCII.GetString(reply);
            });
            Console.WriteLine(string.Join(';', echoes));
            int[] ids = await runtime.InvokeOnAll(() => Shard.Current!.Id);
            string path = Path.Combine(Path.GetTempPath(), $"miniss-consumer-{Guid.NewGuid():N}");
            try
            {
                int[] lengths = await runtime.InvokeOnAll(async () =>
                {
                    await Shard.Current!.NopAsync();
                    await using BufferedFile file = await BufferedFile.OpenAsync($"{path}.{Shard.Current!.Id}", FileMode.Create);
                    await file.WriteAllAsync(0, new byte[Shard.Current!.Id + 1]);
                    return (int)await file.GetLengthAsync();
                });
                Console.WriteLine($"shards {runtime.ShardCount} ids {string.Join(',', ids)} lengths {string.Join(',', lengths)}");
            }
            finally
            {
                foreach (string file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + ".*"))
                {
                    File.Delete(file);
                }
            }
            """);

        // A private package folder: the test must use what was just packed, never a cached package of the same version.
        string packages = Path.Combine(_work, "packages");
        Dotnet(consumer, $"build -c Release --packages {packages}");
        string output = Dotnet(consumer, "run -c Release --no-build");

        int shards = Environment.ProcessorCount;
        string expectedIds = string.Join(',', System.Linq.Enumerable.Range(0, shards));
        string expectedLengths = string.Join(',', System.Linq.Enumerable.Range(1, shards));
        Assert.That(output, Does.Contain($"shards {shards} ids {expectedIds} lengths {expectedLengths}"));
        Assert.That(output, Does.Contain(string.Join(';', System.Linq.Enumerable.Range(0, shards).Select(i => $"echo from shard {i}"))),
            "an echo round trip from every shard");
    }

    [Test, CancelAfter(600_000)]
    public void A_fresh_hosted_application_restores_Miniss_Hosting_and_serves_an_echo_configured_by_environment_variables()
    {
        string feed = Pack("bindings/Miniss.Bindings/Miniss.Bindings.csproj", "runtime/Miniss.Runtime/Miniss.Runtime.csproj",
            "runtime/Miniss.Hosting/Miniss.Hosting.csproj");
        Assert.That(File.Exists(Path.Combine(feed, $"Miniss.Hosting.{Version}.nupkg")), Is.True);

        string consumer = Consumer(feed);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Miniss.Hosting" Version="{Version}" />
                <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.0" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using System.Net;
            using System.Net.Sockets;
            using Microsoft.Extensions.DependencyInjection;
            using Microsoft.Extensions.Hosting;
            using Miniss;
            using Miniss.Hosting;

            HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
            builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"));
            builder.Services.AddShardServer(new IPEndPoint(IPAddress.Loopback, 0), async connection =>
            {
                byte[] buffer = new byte[256];
                int received;
                while ((received = await connection.ReceiveAsync(buffer)) > 0)
                {
                    await connection.SendAsync(buffer.AsMemory(0, received));
                }
            });
            using IHost host = builder.Build();
            await host.StartAsync();

            MinissRuntime runtime = host.Services.GetRequiredService<MinissRuntime>();
            EndPoint endPoint = host.Services.GetRequiredService<HostedShardServer>().LocalEndPoint;
            using (var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 })
            {
                client.Connect(endPoint);
                byte[] message = System.Text.Encoding.ASCII.GetBytes("hosted echo");
                client.Send(message);
                byte[] reply = new byte[message.Length];
                for (int total = 0; total < reply.Length;)
                {
                    int n = client.Receive(reply, total, reply.Length - total, SocketFlags.None);
                    if (n == 0)
                    {
                        throw new InvalidOperationException("the server closed the connection");
                    }

                    total += n;
                }

                Console.WriteLine($"{runtime.ShardCount} shards on {runtime.Backend.Name} echoed '{System.Text.Encoding.ASCII.GetString(reply)}'");
            }

            await host.StopAsync();
            Console.WriteLine($"stopped: {runtime.IsStopping}");
            """);

        string packages = Path.Combine(_work, "packages");
        Dotnet(consumer, $"build -c Release --packages {packages}");
        string output = Dotnet(consumer, "run -c Release --no-build",
            new Dictionary<string, string> { ["Miniss__ShardCount"] = "2", ["Miniss__Backend"] = "epoll" });

        Assert.That(output, Does.Contain("2 shards on epoll echoed 'hosted echo'"));
        Assert.That(output, Does.Contain("stopped: True"));
    }

    [Test, CancelAfter(600_000)]
    public void A_fresh_ASP_NET_Core_application_restores_Miniss_AspNetCore_and_serves_on_the_shards()
    {
        string feed = Pack("bindings/Miniss.Bindings/Miniss.Bindings.csproj", "runtime/Miniss.Runtime/Miniss.Runtime.csproj",
            "runtime/Miniss.Hosting/Miniss.Hosting.csproj", "runtime/Miniss.AspNetCore/Miniss.AspNetCore.csproj");
        Assert.That(File.Exists(Path.Combine(feed, $"Miniss.AspNetCore.{Version}.nupkg")), Is.True);

        string consumer = Consumer(feed);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Miniss.AspNetCore" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using Miniss;
            using Miniss.AspNetCore;

            WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
            builder.WebHost.UseMiniss().UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            WebApplication app = builder.Build();
            app.MapGet("/plaintext", () => $"Hello from shard {Shard.Current?.Id.ToString() ?? "none"}");
            await app.StartAsync();

            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            string reply = await client.GetStringAsync(new Uri(new Uri(app.Urls.First()), "plaintext"));
            MinissRuntime runtime = app.Services.GetRequiredService<MinissRuntime>();
            Console.WriteLine($"{runtime.ShardCount} shards on {runtime.Backend.Name}: {reply}");
            await app.StopAsync();
            Console.WriteLine($"stopped: {runtime.IsStopping}");
            """);

        string packages = Path.Combine(_work, "packages");
        Dotnet(consumer, $"build -c Release --packages {packages}");
        string output = Dotnet(consumer, "run -c Release --no-build",
            new Dictionary<string, string> { ["Miniss__ShardCount"] = "2" });

        Assert.That(output, Does.Match(@"2 shards on \S+: Hello from shard [01]\b"));
        Assert.That(output, Does.Contain("stopped: True"));
    }

    /// <summary>Packs <paramref name="projects"/> (built already) into a folder feed of this test.</summary>
    private string Pack(params string[] projects)
    {
        string feed = Path.Combine(_work, "feed");
        string configuration = typeof(ConsumerTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        foreach (string project in projects)
        {
            Dotnet(RepositoryRoot(), $"pack {project} -c {configuration} --no-build -o {feed}");
        }

        return feed;
    }

    /// <summary>A folder for a consumer project whose nuget.config adds <paramref name="feed"/>.</summary>
    private string Consumer(string feed)
    {
        string consumer = Path.Combine(_work, "consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="miniss-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        return consumer;
    }

    private static string Dotnet(string directory, string arguments, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach ((string name, string value) in environment ?? [])
        {
            start.Environment[name] = value;
        }

        using Process process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => output.AppendLine(e.Data);
        process.ErrorDataReceived += (_, e) => output.AppendLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {arguments} did not finish within 5 minutes:\n{output}");
        }

        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, $"dotnet {arguments} in {directory} failed:\n{output}");
        return output.ToString();
    }

    private static string RepositoryRoot([CallerFilePath] string here = "")
    {
        string? directory = Path.GetDirectoryName(here);
        while (directory is not null && !File.Exists(Path.Combine(directory, "Miniss.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException($"Miniss.sln not found above {here}");
    }
}
