using System.CommandLine;
using System.Net;

namespace Miniss.Cli.CommandLine;

/// <summary><c>miniss serve echo|http|aspnet</c> on the command line: one subcommand per server, each with the same
/// options and its own default port.</summary>
internal static class ServeCommandLine
{
    private const string Description =
        "A server until Ctrl-C or SIGTERM (then exit 0, requests in flight drained; a stop that takes over 15 s, or a " +
        "second signal, ends it at once with exit code 1). Prints the address it serves on stdout.\n" +
        "Environment: the runtime's options are read from Miniss__* variables, as in any hosted Miniss application " +
        "(Miniss__Backend=epoll, Miniss__ShardCount=2, Miniss__StallThreshold=00:00:00.1); --shards wins over " +
        "Miniss__ShardCount.";

    /// <summary>The <c>serve</c> command and its three servers.</summary>
    public static Command Create() => new("serve", Description)
    {
        Server("echo", 5000, "An echo server on every shard: sends back what each connection receives."),
        Server("http", 8080, "The HTTP sample's handler on every shard: \"Hello, World!\" to every request, with keep-alive and pipelining."),
        Server("aspnet", 8080, "The ASP.NET Core sample (/plaintext, /json, /upload, /download, /ws) on Kestrel over Miniss shards."),
    };

    private static Command Server(string kind, int defaultPort, string description)
    {
        var address = new Option<IPAddress>("--address")
        {
            Description = "IPv4 or IPv6 address to listen on, or localhost (127.0.0.1); 0.0.0.0 or :: listens on every interface.",
            HelpName = "ADDR",
            DefaultValueFactory = _ => IPAddress.Loopback,
            CustomParser = OptionParsers.Address,
        };
        Option<int> port = OptionParsers.WholeNumber("--port", "N", "TCP port; 0 picks a free one.", 0, 65535, defaultPort);
        Option<int?> shards = OptionParsers.OptionalWholeNumber("--shards", "N",
            "Shards [default: every CPU this process may run on, or Miniss__ShardCount].", 1, System.Environment.ProcessorCount);
        var reusePort = new Option<bool>("--reuse-port")
        {
            Description = "Share the port with other processes that ask for it too (SO_REUSEPORT; the kernel splits the " +
                "clients); without it, a port another process listens on is refused.",
        };

        var command = new Command(kind, $"{description}\n{Description}") { address, port, shards, reusePort };
        command.SetAction(async (parsed, cancellation) =>
        {
            var options = new ServeOptions
            {
                Kind = kind,
                Address = parsed.GetValue(address)!,
                Port = parsed.GetValue(port),
                Shards = parsed.GetValue(shards),
                ReusePort = parsed.GetValue(reusePort),
            };
            ProcessLimits.RaiseDescriptorLimit();
            using var watchdog = new ExitWatchdog();
            Microsoft.Extensions.Logging.LogLevel level = MinissCommandLine.LogLevel(parsed);

            // The host owns the log of serve and flushes it when it is disposed, before a failure is printed.
            return kind == "aspnet"
                ? await AspNetServeCommand.RunAsync(options, level, watchdog).ConfigureAwait(false)
                : await ServeCommand.RunAsync(options, level, watchdog).ConfigureAwait(false);
        });
        return command;
    }
}
