using System;
using System.Globalization;
using System.Text.Json;
using System.Threading.Tasks;

namespace Miniss.NetBenchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Miniss.NetBenchmarks -- run</c>: Miniss networking beside .NET, every
/// server and load generator in a process of its own (this program started again with <c>serve</c> or <c>load</c>).
/// </summary>
public static class Program
{
    private const string Usage = """
        usage: Miniss.NetBenchmarks run [--warmup SECONDS] [--duration SECONDS] [--no-doc] [--suite all|net|kestrel|native|shared]
                                        [--rounds N] [--short]
                                         every case (or one suite; all is net, kestrel and native); updates its sections
                                         of docs/benchmarks.md. shared: interleaved rounds (--rounds, 3 by default);
                                         --short: 1 s warm-up, 3 s measured, one round
               Miniss.NetBenchmarks serve echo-miniss|echo-dotnet|http-miniss|http-kestrel PORT
               Miniss.NetBenchmarks serve aspnet-miniss|aspnet-sockets|aspnet-sockets-inline PORT
                                         a server, until its standard input closes
               Miniss.NetBenchmarks load echo-miniss|echo-dotnet PORT CONNECTIONS WARMUP_SECONDS DURATION_SECONDS
                                         a 64-byte echo load generator; prints "result {json}"
        """;

    /// <summary>Runs one command (see the usage text); returns the process exit code.</summary>
    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["run", .. var options]:
                return await Runner.RunAsync(options).ConfigureAwait(false);

            case ["serve", var server, var port]:
                // A parent closes the standard input to stop the server; reading it to its end waits for that. On a
                // thread of its own: Console.In's async reads complete synchronously.
                Task stop = Task.Run(() => Console.In.ReadToEnd());
                int p = int.Parse(port, CultureInfo.InvariantCulture);
                await (server switch
                {
                    "echo-miniss" => Echo.ServeMinissAsync(p, stop),
                    "echo-dotnet" => Echo.ServeDotNetAsync(p, stop),
                    "http-miniss" => Http.ServeMinissAsync(p, stop),
                    "http-kestrel" => Http.ServeKestrelAsync(p, stop),
                    "aspnet-miniss" => AspNet.ServeAsync("miniss", p, stop),
                    "aspnet-sockets" => AspNet.ServeAsync("sockets", p, stop),
                    "aspnet-sockets-inline" => AspNet.ServeAsync("sockets-inline", p, stop),
                    _ => throw new ArgumentException($"no server {server}\n{Usage}"),
                }).ConfigureAwait(false);
                return 0;

            case ["load", var client, var port, var connections, var warmup, var duration]:
                int c = int.Parse(connections, CultureInfo.InvariantCulture);
                TimeSpan w = TimeSpan.FromSeconds(double.Parse(warmup, CultureInfo.InvariantCulture));
                TimeSpan d = TimeSpan.FromSeconds(double.Parse(duration, CultureInfo.InvariantCulture));
                int target = int.Parse(port, CultureInfo.InvariantCulture);
                LoadResult result = await (client switch
                {
                    "echo-miniss" => Echo.LoadMinissAsync(target, c, w, d),
                    "echo-dotnet" => Echo.LoadDotNetAsync(target, c, w, d),
                    _ => throw new ArgumentException($"no load generator {client}\n{Usage}"),
                }).ConfigureAwait(false);
                Console.WriteLine("result " + JsonSerializer.Serialize(result));
                return 0;

            default:
                Console.Error.WriteLine(Usage);
                return 2;
        }
    }
}
