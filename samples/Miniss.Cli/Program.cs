using System;
using System.Collections.Generic;
using System.Linq;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Miniss;
using Miniss.IO;
using Miniss.IO.Uring;
using Miniss.Bindings.Linux;

namespace Miniss.Cli;

/// <summary>The <c>miniss</c> command.</summary>
public static class Program
{
    private const string Usage =
        "usage: miniss [bench] [--backend io_uring|epoll|auto|all] [--duration SECONDS] [--file-size MB] [--connections N] [--shards N] [--json PATH]\n" +
        "       miniss serve echo|http [--port N] [--shards N]\n" +
        "       miniss info\n" +
        "  bench   (the default) Miniss beside .NET, a bounded time per workload: 4 KiB random reads of a temporary file\n" +
        "          (32 in flight per core), a loopback TCP echo of 64-byte messages, cross-core ping-pong; prints a table\n" +
        "            --backend NAME      the I/O backend: io_uring, epoll, auto (default: reads MINISS_BACKEND, then takes\n" +
        "                                io_uring when this process can use it, else epoll) or all (each in turn)\n" +
        "            --duration SECONDS  measured time per workload (default 3)\n" +
        "            --file-size MB      size of the temporary file (default 256)\n" +
        "            --connections N     echo connections (default 64)\n" +
        "            --shards N          shards (and .NET workers per core) to use (default: every CPU)\n" +
        "            --json PATH         also write the figures as JSON\n" +
        "  serve   an echo or HTTP server on every shard until Ctrl-C (--port: default 5000 for echo, 8080 for http)\n" +
        "  info    what this machine offers Miniss: io_uring features and operations, memlock limit, CPUs";

    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string command = args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal) && args[0] != "--help"
            ? "bench"
            : args[0];
        int first = args.Length > 0 && command == args[0] ? 1 : 0;
        try
        {
            switch (command)
            {
                case "-h" or "--help" or "help":
                    Console.WriteLine(Usage);
                    return 0;
                case "info":
                    Expect(args.Length == 1, $"'info' takes no arguments");
                    Info(Console.Out);
                    return 0;
                case "bench":
                    return await BenchCommand.RunAsync(ParseBench(args.AsSpan(first))).ConfigureAwait(false);
                case "serve":
                    Expect(args.Length > 1 && args[1] is "echo" or "http", "'serve' needs 'echo' or 'http'");
                    (int port, int? shards) = ParseServe(args[1], args.AsSpan(2));
                    return await ServeCommand.RunAsync(args[1], port, shards).ConfigureAwait(false);
                default:
                    throw new UsageException($"unknown command '{command}'");
            }
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"miniss: {e.Message}.");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        catch (Exception e) when (e is IoUringUnavailableException or PlatformNotSupportedException || (e is ArgumentException && e.Message.StartsWith(IoBackendSelection.EnvironmentVariable, StringComparison.Ordinal)))
        {
            // The runtime could not start with the backend asked for: a clear line, not a stack trace.
            Console.Error.WriteLine($"miniss: {e.Message}");
            return 1;
        }
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
                    Expect(Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(options.JsonPath))),
                        $"'--json': the folder of '{options.JsonPath}' does not exist");
                    break;
                default:
                    throw new UsageException($"unknown bench option '{name}'");
            }
        }

        return options;
    }

    private static (int Port, int? Shards) ParseServe(string kind, ReadOnlySpan<string> args)
    {
        int port = kind == "http" ? 8080 : 5000;
        int? shards = null;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            switch (name)
            {
                case "--port":
                    port = ParseInt(name, Value(args, ref i), 0, 65535);
                    break;
                case "--shards":
                    shards = ParseInt(name, Value(args, ref i), 1, Environment.ProcessorCount);
                    break;
                default:
                    throw new UsageException($"unknown serve option '{name}'");
            }
        }

        return (port, shards);
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
            if (IoBackendSelection.Select(new RuntimeOptions()).Kind == IoBackendKind.IoUring)
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

        output.WriteLine($"io_uring: available; highest operation code {io.LastOperation}");
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

/// <summary>A command line that does not parse: reported with the usage, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
