using System.CommandLine;
using System.CommandLine.Invocation;
using Microsoft.Extensions.Logging;

namespace Miniss.Cli.CommandLine;

/// <summary>The command line of <c>miniss</c>: the commands, the options every command takes, <c>--version</c>, and the
/// one-line sentence a command line that cannot run is refused with.</summary>
internal static class MinissCommandLine
{
    /// <summary>Debug messages in the log (stderr).</summary>
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Log debug messages too (on stderr).",
        Recursive = true,
    };

    /// <summary>Errors only in the log, and no progress.</summary>
    public static readonly Option<bool> Quiet = new("--quiet", "-q")
    {
        Description = "Log errors only, and print no progress (on stderr).",
        Recursive = true,
    };

    private const string Description =
        "Miniss, a thread-per-core async runtime for .NET on io_uring (epoll where io_uring cannot run): what this machine " +
        "offers it (info), a benchmark beside .NET (bench, the default command) and sample servers (serve).\n" +
        "Results go to stdout; progress and the log go to stderr.\n" +
        "Exit codes: 0 done; 1 failed while running (port taken or refused, disk full, runtime could not start); " +
        "2 the command line cannot run as given (unknown option, bad value, --json or --report not writable, more connections than " +
        "RLIMIT_NOFILE allows, too little room in TMPDIR): nothing was done; 130 bench interrupted by Ctrl-C or SIGTERM.\n" +
        "Every failure is one line on stderr: 'miniss: <what failed, the value, what to change>'.\n" +
        "Install as a .NET tool: dotnet tool install --global miniss (add --add-source FOLDER --prerelease for a package " +
        "packed from a checkout with dotnet cake --target=Pack).";

    /// <summary>The root command with <c>bench</c>, <c>info</c> and <c>serve</c>.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand(Description) { Verbose, Quiet };
        foreach (Option option in root.Options)
        {
            if (option is VersionOption version)
            {
                version.Action = new PrintVersion();
            }
        }

        root.Subcommands.Add(BenchCommandLine.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(ServeCommandLine.Create());
        return root;
    }

    /// <summary>The log level <c>--verbose</c> or <c>--quiet</c> asks for (Information when neither).</summary>
    public static LogLevel LogLevel(ParseResult parsed) =>
        parsed.GetValue(Quiet) ? Microsoft.Extensions.Logging.LogLevel.Error
        : parsed.GetValue(Verbose) ? Microsoft.Extensions.Logging.LogLevel.Debug
        : Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary><paramref name="args"/> with <c>bench</c> in front when they name no command (nothing, or options only):
    /// <c>miniss</c> and <c>miniss --duration 1</c> run the benchmark, as they always have.</summary>
    public static string[] WithDefaultCommand(string[] args)
    {
        foreach (string arg in args)
        {
            switch (arg)
            {
                case "--verbose" or "-v" or "--quiet" or "-q":
                    continue;
                case "--help" or "-h" or "-?" or "--version":
                    return args;
                default:
                    return arg.StartsWith('-') ? ["bench", .. args] : args;
            }
        }

        return ["bench", .. args];
    }

    /// <summary>The sentence a command line that cannot run is refused with, or <see langword="null"/> when it can run.
    /// One sentence: the first problem, and where the command's help is.</summary>
    public static string? UsageError(ParseResult parsed)
    {
        if (parsed.Errors.Count == 0)
        {
            return null;
        }

        Command command = parsed.CommandResult.Command;
        string sentence;
        if (command is RootCommand && parsed.UnmatchedTokens.Count > 0)
        {
            sentence = $"unknown command '{parsed.UnmatchedTokens[0]}': use bench, serve or info";
        }
        else if (command.Action is null && command.Subcommands.Count > 0)
        {
            // serve without echo, http or aspnet (or with another word).
            sentence = $"'{command.Name}' needs {Alternatives(command)}{(parsed.UnmatchedTokens.Count > 0 ? $", not '{parsed.UnmatchedTokens[0]}'" : "")}";
        }
        else if (parsed.UnmatchedTokens.Count > 0)
        {
            string token = parsed.UnmatchedTokens[0];
            sentence = token.StartsWith('-') ? $"unknown {CommandPath(command)} option '{token}'"
                : $"'{CommandPath(command)}' takes no argument '{token}'";
        }
        else
        {
            sentence = parsed.Errors[0].Message.TrimEnd('.');
        }

        return $"{sentence} (see '{HelpCommand(parsed)}')";
    }

    /// <summary>The command line that shows the help of the command <paramref name="parsed"/> names.</summary>
    public static string HelpCommand(ParseResult parsed) =>
        parsed.CommandResult.Command is RootCommand ? "miniss --help" : $"miniss {CommandPath(parsed.CommandResult.Command)} --help";

    /// <summary>The words after <c>miniss</c> that name <paramref name="command"/> (<c>serve echo</c>).</summary>
    private static string CommandPath(Command command)
    {
        string path = command.Name;
        foreach (Symbol parent in command.Parents)
        {
            if (parent is Command outer and not RootCommand)
            {
                path = $"{CommandPath(outer)} {path}";
            }
        }

        return path;
    }

    private static string Alternatives(Command command)
    {
        var names = new System.Collections.Generic.List<string>(command.Subcommands.Count);
        foreach (Command sub in command.Subcommands)
        {
            names.Add($"'{sub.Name}'");
        }

        return names.Count == 1 ? names[0] : $"{string.Join(", ", names.GetRange(0, names.Count - 1))} or {names[^1]}";
    }

    /// <summary><c>--version</c>: the Miniss version and the commit it was built from.</summary>
    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine($"miniss {BuildInfo.Version} (commit {BuildInfo.Commit ?? "unknown: built outside a git checkout"})");
            return 0;
        }
    }
}
