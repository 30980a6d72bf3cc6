using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using Microsoft.Extensions.Logging;
using Miniss.IO;

namespace Miniss.Cli.CommandLine;

/// <summary><c>miniss bench</c> on the command line: its options, their defaults, and the checks made before any work.</summary>
internal static class BenchCommandLine
{
    private const string Description =
        "Miniss beside .NET, a bounded time per workload: 4 KiB random reads of a temporary file (32 in flight per core, " +
        "in TMPDIR), a loopback TCP echo of 64-byte messages, cross-core ping-pong. Prints a table on stdout (or the " +
        "figures as JSON with --json -); progress goes to stderr. --report PATH.html also draws the run as one " +
        "self-contained HTML page (charts of operations/s, latency percentiles and the ratio to .NET; it loads nothing).\n" +
        "Environment: MINISS_BACKEND (io_uring, epoll or auto) is the backend when --backend is auto; TMPDIR is where " +
        "the temporary file goes (default /tmp).";

    /// <summary>The <c>bench</c> command.</summary>
    public static Command Create()
    {
        var backend = new Option<IReadOnlyList<IoBackendKind>>("--backend")
        {
            Description = "The I/O backend: io_uring, epoll, auto (reads MINISS_BACKEND, then takes io_uring when this " +
                "process can set up every shard's ring, else epoll) or all (each in turn) [default: auto].",
            HelpName = "io_uring|epoll|auto|all",
            CustomParser = OptionParsers.Backends,
        };
        Option<double> duration = OptionParsers.Seconds("--duration", "Measured time per workload, after a warm-up of up to 0.5 s.", 0.05, 3600, 3);
        Option<int> fileSize = OptionParsers.WholeNumber("--file-size", "MB",
            "Size of the temporary file in MiB; TMPDIR must have that much free.", 1, 1 << 20, 256);
        Option<int> connections = OptionParsers.WholeNumber("--connections", "N",
            "Echo connections; each takes two descriptors, checked against RLIMIT_NOFILE.", 1, 10_000, 64);
        Option<int?> shards = OptionParsers.OptionalWholeNumber("--shards", "N",
            "Shards (and .NET workers per core) to use [default: every CPU this process may run on].", 1, Environment.ProcessorCount);
        var json = new Option<string?>("--json")
        {
            Description = "Also write the figures as JSON (docs/schemas/miniss-bench.schema.json) to PATH, checked to be " +
                "writable before the run; '-' writes them to stdout instead of the table.",
            HelpName = "PATH|-",
        };
        var report = new Option<string?>("--report")
        {
            Description = "Also write the run as one self-contained HTML page to PATH (inline SVG charts of operations/s, " +
                "latency percentiles and the ratio to .NET, the run block and every figure; no script, nothing fetched), " +
                "checked to be writable before the run.",
            HelpName = "PATH.html",
        };

        var command = new Command("bench", Description) { backend, duration, fileSize, connections, shards, json, report };
        command.SetAction(async (parsed, cancellation) =>
        {
            var options = new BenchOptions
            {
                Backends = parsed.GetValue(backend) ?? [IoBackendKind.Auto],
                DurationSeconds = parsed.GetValue(duration),
                FileSizeMiB = parsed.GetValue(fileSize),
                Connections = parsed.GetValue(connections),
                Shards = parsed.GetValue(shards),
                JsonPath = parsed.GetValue(json),
                ReportPath = parsed.GetValue(report),
                Progress = parsed.GetValue(MinissCommandLine.Quiet) ? ProgressMode.None
                    : Console.IsErrorRedirected ? ProgressMode.Lines : ProgressMode.Live,
            };
            if (options.JsonPath is { } path && path != "-")
            {
                CheckWritable("--json", path, "the figures", ", or - for stdout");
            }

            if (options.ReportPath is { } page)
            {
                CheckWritable("--report", page, "the report", "");
            }

            long descriptors = ProcessLimits.RaiseDescriptorLimit();
            using ILoggerFactory logging = ConsoleLogging.Create(MinissCommandLine.LogLevel(parsed));
            BenchCommand.Validate(options, descriptors, logging.CreateLogger("Miniss"));
            using var watchdog = new ExitWatchdog();
            return await BenchCommand.RunAsync(options, logging, watchdog).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Checks before any work that <paramref name="what"/> can be written to <paramref name="path"/> (given as
    /// <paramref name="option"/>): not a folder, its folder exists, and the file can be opened for writing (a file this
    /// check creates is removed again).</summary>
    /// <param name="alternative">What else the option takes, ending the sentence for a folder (", or - for stdout").</param>
    /// <exception cref="UsageException">The file could not be written there.</exception>
    private static void CheckWritable(string option, string path, string what, string alternative)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UsageException($"'{option} {path}' is not a usable path: {FailureText.Describe(e)}");
        }

        Expect(!Directory.Exists(full), $"'{option} {path}' is a folder: give the path of a file to write {what} to{alternative}");
        Expect(Directory.Exists(Path.GetDirectoryName(full)), $"'{option} {path}': the folder '{Path.GetDirectoryName(full)}' does not exist");
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
            throw new UsageException($"'{option} {path}' cannot be written: {FailureText.Describe(e)}: choose a path this user may write");
        }
    }

    private static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            throw new UsageException(message);
        }
    }
}
