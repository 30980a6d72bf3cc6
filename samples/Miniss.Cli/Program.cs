using System;
using System.IO;
using System.CommandLine;
using System.Threading.Tasks;
using Miniss.Cli.CommandLine;

namespace Miniss.Cli;

/// <summary>The <c>miniss</c> command.</summary>
public static class Program
{
    /// <summary>Exit code of a command that failed while it ran (a port that cannot be bound, a full disk, a runtime
    /// that cannot start).</summary>
    public const int RuntimeFailure = 1;

    /// <summary>Exit code of a command line that cannot run as given; nothing was done.</summary>
    public const int UsageFailure = 2;

    /// <summary>Exit code of a <c>bench</c> run interrupted by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    // The descriptors miniss needs before any command opens its own: .NET's runtime and the assemblies it keeps open.
    private const long MinimumDescriptors = 128;

    /// <summary>Runs the command <paramref name="args"/> names (<c>bench</c> when none).</summary>
    /// <returns>0 when done; <see cref="RuntimeFailure"/> or <see cref="UsageFailure"/> after one line on stderr;
    /// <see cref="Interrupted"/> when Ctrl-C or SIGTERM interrupted <c>bench</c>. Never throws: every failure ends in one
    /// of these.</returns>
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);

        // Before anything else: .NET keeps every loaded assembly's file open, so below about a hundred descriptors it
        // cannot load the libraries a command needs and would abort with a loader exception. The console is opened
        // first so that the refusal gets its line.
        _ = Console.Error;
        long descriptors;
        try
        {
            descriptors = ProcessLimits.RaiseDescriptorLimit();
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or IOException)
        {
            // Too few descriptors even to load the library that reads the limit.
            return Fail(UsageFailure, $"too few descriptors to load .NET's libraries ({e.GetType().Name}); miniss needs at least {MinimumDescriptors}: raise RLIMIT_NOFILE (ulimit -n, LimitNOFILE= in a systemd unit)");
        }

        if (descriptors < MinimumDescriptors)
        {
            return Fail(UsageFailure, $"RLIMIT_NOFILE allows {descriptors} descriptors even raised to its hard limit, and miniss needs at least {MinimumDescriptors} to load .NET and its libraries: raise it (ulimit -n, LimitNOFILE= in a systemd unit)");
        }

        AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
        TaskScheduler.UnobservedTaskException += static (_, e) => e.SetObserved();

        RootCommand root = MinissCommandLine.Create();
        ParseResult parsed = root.Parse(MinissCommandLine.WithDefaultCommand(args));
        if (MinissCommandLine.UsageError(parsed) is { } usage)
        {
            return Fail(UsageFailure, usage);
        }

        try
        {
            // Ctrl-C and SIGTERM are each command's own (StopSignals, the host's console lifetime), and so are failures.
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null })
                .ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            return Fail(UsageFailure, $"{e.Message} (see '{MinissCommandLine.HelpCommand(parsed)}')");
        }
        catch (Exception e)
        {
            // Whatever else went wrong (the runtime could not start, a port, a disk): one sentence, never a stack trace.
            return Fail(RuntimeFailure, FailureText.Describe(e));
        }
    }

    /// <summary>Writes <c>miniss: sentence.</c> on stderr and returns the exit code. Each command disposes its log
    /// before its failure reaches here, so queued log messages come first.</summary>
    private static int Fail(int exitCode, string sentence)
    {
        Console.Error.WriteLine($"miniss: {sentence.TrimEnd('.')}.");
        return exitCode;
    }

    /// <summary>An exception escaped a thread of its own: one line and exit code 1 rather than .NET's abort with a trace.</summary>
    private static void OnUnhandledException(object? sender, UnhandledExceptionEventArgs e)
    {
        Console.Error.WriteLine($"miniss: {(e.ExceptionObject is Exception error ? FailureText.Describe(error) : "an unknown error")}.");
        Console.Error.Flush();
        Environment.Exit(RuntimeFailure);
    }
}
