using System;
using System.Collections.Generic;
using System.Linq;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Miniss.IO;
using Miniss.Bindings.Linux;
using Microsoft.Extensions.Logging;

namespace Miniss.Cli;

/// <summary>The <c>miniss</c> command.</summary>
public static class Program
{
    /// <summary>Exit code of a command that failed while it ran (a port that cannot be bound, a full disk, a runtime
    /// that cannot start).</summary>
    public const int RuntimeFailure = 1;

    /// <summary>Exit code of a command line that cannot run as given; nothing was done.</summary>
    public const int UsageFailure = 2;

    private const string Usage =
        "usage: miniss [bench] [--backend io_uring|epoll|auto|all] [--duration SECONDS] [--file-size MB] [--connections N] [--shards N] [--json PATH]\n" +
        "       miniss serve echo|http|aspnet [--address ADDR] [--port N] [--shards N] [--reuse-port]\n" +
        "       miniss info\n" +
        "       every command also takes --verbose (debug messages) or --quiet (errors only)\n" +
        "  bench   (the default) Miniss beside .NET, a bounded time per workload: 4 KiB random reads of a temporary file\n" +
        "          (32 in flight per core, in TMPDIR), a loopback TCP echo of 64-byte messages, cross-core ping-pong; prints a table\n" +
        "            --backend NAME      the I/O backend: io_uring, epoll, auto (default: reads MINISS_BACKEND, then takes\n" +
        "                                io_uring when this process can set up every shard's ring, else epoll) or all (each in turn)\n" +
        "            --duration SECONDS  measured time per workload (default 3)\n" +
        "            --file-size MB      size of the temporary file (default 256); TMPDIR must have that much free\n" +
        "            --connections N     echo connections (default 64); each takes two descriptors, checked against RLIMIT_NOFILE\n" +
        "            --shards N          shards (and .NET workers per core) to use (default: every CPU)\n" +
        "            --json PATH         also write the figures as JSON (checked to be writable before the run)\n" +
        "  serve   an echo or HTTP server on every shard, or the ASP.NET Core sample on Kestrel over Miniss (aspnet), until\n" +
        "          Ctrl-C or SIGTERM (then exit 0, requests in flight drained; a stop that takes over 15 s,\n" +
        "          or a second signal, ends it at once with exit code 1)\n" +
        "            --address ADDR      IPv4 or IPv6 address to listen on (default 127.0.0.1, this machine only;\n" +
        "                                0.0.0.0 or :: listens on every interface)\n" +
        "            --port N            TCP port (default 5000 for echo, 8080 for http and aspnet; 0 picks a free one)\n" +
        "            --shards N          shards (default: every CPU)\n" +
        "            --reuse-port        share the port with other processes that ask for it too (SO_REUSEPORT; the kernel\n" +
        "                                splits the clients); without it, a port another process listens on is refused\n" +
        "  info    what this machine offers Miniss: io_uring features and operations, memlock limit, CPUs\n" +
        "exit codes: 0 done; 1 failed while running (port taken or refused, disk full, runtime could not start);\n" +
        "            2 the command line cannot run as given (unknown option, bad value, --json not writable, more\n" +
        "              connections than RLIMIT_NOFILE allows, too little room in TMPDIR): nothing was done;\n" +
        "            130 bench interrupted by Ctrl-C or SIGTERM (its temporary file is deleted)\n" +
        "every failure is one line on stderr: 'miniss: <what failed, the value, what to change>'";

    /// <summary>Runs the command <paramref name="args"/> names (<c>bench</c> when none).</summary>
    /// <returns>0 when done; <see cref="RuntimeFailure"/> or <see cref="UsageFailure"/> after one line on stderr;
    /// 130 when Ctrl-C or SIGTERM interrupted <c>bench</c>. Never throws: every failure ends in one of these.</returns>
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
        TaskScheduler.UnobservedTaskException += static (_, e) => e.SetObserved();

        LogLevel level = LogLevel.Information;
        var rest = new List<string>(args.Length);
        foreach (string arg in args)
        {
            switch (arg)
            {
                case "--verbose" or "-v":
                    level = LogLevel.Debug;
                    break;
                case "--quiet" or "-q":
                    level = LogLevel.Error;
                    break;
                default:
                    rest.Add(arg);
                    break;
            }
        }

        args = [.. rest];
        string command = args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal) && args[0] != "--help"
            ? "bench"
            : args[0];
        int first = args.Length > 0 && command == args[0] ? 1 : 0;
        ILoggerFactory? logging = null;
        try
        {
            long descriptors = ProcessLimits.RaiseDescriptorLimit();
            switch (command)
            {
                case "-h" or "--help" or "help":
                    Console.WriteLine(Usage);
                    return 0;
                case "info":
                    Expect(args.Length == 1, $"'info' takes no arguments, not '{(args.Length > 1 ? args[1] : "")}'");
                    Info(Console.Out);
                    return 0;
                case "bench":
                {
                    BenchOptions options = ParseBench(args.AsSpan(first));
                    logging = ConsoleLogging.Create(level);
                    ILogger logger = logging.CreateLogger("Miniss");
                    BenchCommand.Validate(options, descriptors, logger);
                    using var watchdog = new ExitWatchdog();
                    return await BenchCommand.RunAsync(options, logging, watchdog).ConfigureAwait(false);
                }

                case "serve":
                {
                    Expect(args.Length > 1 && args[1] is "echo" or "http" or "aspnet", "'serve' needs 'echo', 'http' or 'aspnet'");
                    ServeOptions options = ParseServe(args[1], args.AsSpan(2));
                    using var watchdog = new ExitWatchdog();
                    if (options.Kind == "aspnet")
                    {
                        return await AspNetServeCommand.RunAsync(options, level, watchdog).ConfigureAwait(false);
                    }

                    // The host owns the log of serve and flushes it when it is disposed, before a failure is printed.
                    return await ServeCommand.RunAsync(options, level, watchdog).ConfigureAwait(false);
                }

                default:
                    throw new UsageException($"unknown command '{command}': use bench, serve or info");
            }
        }
        catch (UsageException e)
        {
            return Fail(UsageFailure, $"{e.Message} (see 'miniss --help')", logging);
        }
        catch (Exception e)
        {
            // Whatever else went wrong (the runtime could not start, a port, a disk): one sentence, never a stack trace.
            return Fail(RuntimeFailure, FailureText.Describe(e), logging);
        }
        finally
        {
            logging?.Dispose();
        }
    }

    /// <summary>Writes <c>miniss: sentence.</c> on stderr (after any queued log messages) and returns the exit code.</summary>
    private static int Fail(int exitCode, string sentence, ILoggerFactory? logging)
    {
        logging?.Dispose();
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

    private static BenchOptions ParseBench(ReadOnlySpan<string> args)
    {
        var options = new BenchOptions();

        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            switch (name)
            {
                case "--backend":
                    options.Backends = ParseBackends(Value(args, ref i));
                    break;
                case "--duration":
                    options.DurationSeconds = ParseDouble(name, Value(args, ref i), 0.05, 3600);
                    break;
                case "--file-size":
                    options.FileSizeMiB = ParseInt(name, Value(args, ref i), 1, 1 << 20);
                    break;
                case "--connections":
                    options.Connections = ParseInt(name, Value(args, ref i), 1, 10_000);
                    break;
                case "--shards":
                    options.Shards = ParseInt(name, Value(args, ref i), 1, Environment.ProcessorCount);
                    break;
                case "--json":
                    options.JsonPath = Value(args, ref i);
                    CheckWritable(options.JsonPath);
                    break;
                default:
                    throw new UsageException($"unknown bench option '{name}'");
            }
        }

        return options;
    }

    private static ServeOptions ParseServe(string kind, ReadOnlySpan<string> args)
    {
        var options = new ServeOptions { Kind = kind, Port = kind == "echo" ? 5000 : 8080 };
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            switch (name)
            {
                case "--port":
                    options.Port = ParseInt(name, Value(args, ref i), 0, 65535);
                    break;
                case "--shards":
                    options.Shards = ParseInt(name, Value(args, ref i), 1, Environment.ProcessorCount);
                    break;
                case "--address":
                    options.Address = ParseAddress(Value(args, ref i));
                    break;
                case "--reuse-port":
                    options.ReusePort = true;
                    break;
                default:
                    throw new UsageException($"unknown serve option '{name}'");
            }
        }

        return options;
    }

    private static IPAddress ParseAddress(string text)
    {
        if (text == "localhost")
        {
            return IPAddress.Loopback;
        }

        // [::1] as URLs write it is accepted too.
        string bare = text.Length > 2 && text[0] == '[' && text[^1] == ']' ? text[1..^1] : text;
        Expect(IPAddress.TryParse(bare, out IPAddress? address) && bare.Contains(address.AddressFamily == AddressFamily.InterNetworkV6 ? ':' : '.', StringComparison.Ordinal),
            $"'--address' needs an IPv4 or IPv6 address such as 127.0.0.1, ::1, 0.0.0.0 or ::, not '{text}'");
        return address!;
    }

    /// <summary>Checks before any work that the figures can be written to <paramref name="path"/>: not a folder, its
    /// folder exists, and the file can be opened for writing (a file this check creates is removed again).</summary>
    private static void CheckWritable(string path)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UsageException($"'--json {path}' is not a usable path: {FailureText.Describe(e)}");
        }

        Expect(!Directory.Exists(full), $"'--json {path}' is a folder: give the path of a file to write the figures to");
        Expect(Directory.Exists(Path.GetDirectoryName(full)), $"'--json {path}': the folder '{Path.GetDirectoryName(full)}' does not exist");
        bool existed = File.Exists(full);
        try
        {
            using (new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite))
            {
            }

            if (!existed)
            {
                File.Delete(full);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"'--json {path}' cannot be written: {FailureText.Describe(e)}: choose a path this user may write");
        }
    }

    private static string Value(ReadOnlySpan<string> args, ref int i)
    {
        Expect(i + 1 < args.Length, $"'{args[i]}' needs a value");
        return args[++i];
    }

    /// <summary>A backend name, <c>all</c> (every backend this machine can run), or a usage error that lists the names.</summary>
    private static List<IoBackendKind> ParseBackends(string backend)
    {
        if (backend == "all")
        {
            var all = new List<IoBackendKind>();
            if (IoBackendSelection.Select(new RuntimeOptions { Backend = IoBackendKind.Auto }).Kind == IoBackendKind.IoUring)
            {
                all.Add(IoBackendKind.IoUring);
            }

            all.Add(OperatingSystem.IsLinux() ? IoBackendKind.Epoll : IoBackendKind.Kqueue);
            return all;
        }

        try
        {
            return [IoBackendSelection.Parse(backend)];
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"'--backend {backend}': {e.Message.Split(" (Parameter")[0]}");
        }
    }

    private static int ParseInt(string name, string text, int min, int max)
    {
        Expect(int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max,
            $"'{name}' needs a whole number from {min} to {max}, not '{text}'");
        return value;
    }

    private static double ParseDouble(string name, string text, double min, double max)
    {
        Expect(double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) && value >= min && value <= max,
            $"'{name}' needs a number of seconds from {min} to {max}, not '{text}'");
        return value;
    }

    private static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            throw new UsageException(message);
        }
    }

    private static unsafe void Info(TextWriter output)
    {
        output.WriteLine($"Miniss on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture}), .NET {Environment.Version}");
        output.WriteLine($"CPUs available to this process: {Environment.ProcessorCount}");
        if (OperatingSystem.IsLinux())
        {
            rlimit limit;
            if (Libc.getrlimit(Files.RLIMIT_MEMLOCK, &limit) == 0)
            {
                output.WriteLine($"Locked-memory limit (RLIMIT_MEMLOCK): {Describe(limit.rlim_cur)}");
            }

            if (Libc.getrlimit(Files.RLIMIT_NOFILE, &limit) == 0)
            {
                // miniss raised the soft limit to the hard one at start.
                output.WriteLine($"Descriptor limit (RLIMIT_NOFILE): {(limit.rlim_cur == Files.RLIM_INFINITY ? "unlimited" : limit.rlim_cur.ToString(CultureInfo.InvariantCulture))}, the hard limit (miniss raises the soft limit to it)");
            }
        }

        var defaults = new RuntimeOptions();
        output.WriteLine($"Shards: one per CPU this process may run on ({string.Join(',', MinissRuntime.AvailableCpus())}), each pinned with sched_setaffinity when the kernel allows");
        output.WriteLine($"Buffer pool per shard: classes {string.Join(' ', defaults.BufferPool.SizeClasses.Select(c => c >= 1 << 20 ? $"{c >> 20}M" : $"{c >> 10}K"))}, " +
            $"{defaults.BufferPool.Alignment}-byte aligned, at most {defaults.BufferPool.MaxMemory >> 20} MiB, registered as fixed buffers when RLIMIT_MEMLOCK allows (or with CAP_IPC_LOCK)");

        IoBackendSelection backend;
        try
        {
            backend = IoBackendSelection.Select(defaults);
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or ArgumentException)
        {
            output.WriteLine($"Backend: none usable: {e.Message}");
            return;
        }

        output.WriteLine($"Backend: {backend}");
        IoUringCapabilities io = IoUringCapabilities.Probe();
        if (!io.IsAvailable)
        {
            output.WriteLine($"io_uring: unavailable ({io.UnavailableReason})");
            return;
        }

        output.WriteLine(backend.Kind == IoBackendKind.IoUring
            ? $"io_uring: available; highest operation code {io.LastOperation}"
            : $"io_uring: a ring can be set up, but the runtime does not use it here (see Backend above); highest operation code {io.LastOperation}");
        output.WriteLine($"  features ({io.FeatureNames.Count}): {string.Join(' ', io.FeatureNames)}");
        output.WriteLine($"  optional setup flags accepted: {string.Join(' ', io.AcceptedSetupFlags)}");
        output.WriteLine($"  supported operations ({io.SupportedOperations.Count}):");
        for (int i = 0; i < io.SupportedOperations.Count; i += 4)
        {
            output.Write("   ");
            for (int j = i; j < Math.Min(i + 4, io.SupportedOperations.Count); j++)
            {
                output.Write($" {io.SupportedOperations[j],-28}");
            }

            output.WriteLine();
        }
    }

    private static string Describe(ulong bytes) =>
        bytes == Files.RLIM_INFINITY ? "unlimited" : $"{bytes / 1024} KiB";
}

