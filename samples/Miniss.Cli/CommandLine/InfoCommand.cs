using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json;
using Miniss.Bindings.Linux;
using Miniss.Cli.Reports;
using Miniss.IO;

namespace Miniss.Cli.CommandLine;

/// <summary><c>miniss info</c>: what this machine offers Miniss (io_uring features and operations, the backend the runtime
/// would choose, memlock and descriptor limits, CPUs), as text or, with <c>--json</c>, as a JSON document.</summary>
internal static class InfoCommand
{
    private const string Description =
        "What this machine offers Miniss: io_uring features and operations, the backend the runtime would choose and why, " +
        "the memlock and descriptor limits, the CPUs. Environment: MINISS_BACKEND, when set, is the backend named.";

    /// <summary>The <c>info</c> command.</summary>
    public static Command Create()
    {
        var json = new Option<bool>("--json")
        {
            Description = "Print a JSON document (docs/schemas/miniss-info.schema.json) instead of text.",
        };
        var command = new Command("info", Description) { json };
        command.SetAction(parsed =>
        {
            DateTime started = DateTime.UtcNow;
            ProcessLimits.RaiseDescriptorLimit();
            if (parsed.GetValue(json))
            {
                InfoReport report = Describe(started);
                Console.Out.WriteLine(JsonSerializer.Serialize(report, ReportJson.Default.InfoReport));
            }
            else
            {
                WriteText(Console.Out);
            }

            return 0;
        });
        return command;
    }

    /// <summary>The facts of <see cref="WriteText"/> as a document.</summary>
    private static unsafe InfoReport Describe(DateTime started)
    {
        long? memlock = null;
        long? descriptors = null;
        if (OperatingSystem.IsLinux())
        {
            rlimit limit;
            if (Libc.getrlimit(Files.RLIMIT_MEMLOCK, &limit) == 0)
            {
                memlock = MachineFacts.Limit(limit.rlim_cur, Files.RLIM_INFINITY);
            }

            if (Libc.getrlimit(Files.RLIMIT_NOFILE, &limit) == 0)
            {
                descriptors = MachineFacts.Limit(limit.rlim_cur, Files.RLIM_INFINITY);
            }
        }

        var defaults = new RuntimeOptions();
        InfoBackend backend;
        try
        {
            IoBackendSelection selection = IoBackendSelection.Select(defaults);
            var rejected = new List<InfoRejectedBackend>(selection.Rejected.Count);
            foreach (RejectedBackend r in selection.Rejected)
            {
                rejected.Add(new InfoRejectedBackend(r.Name, r.Reason, r.Errno));
            }

            backend = new InfoBackend(selection.Name, selection.Source, rejected);
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or ArgumentException)
        {
            backend = new InfoBackend(null, FailureText.Describe(e), []);
        }

        IoUringCapabilities io = IoUringCapabilities.Probe();
        IReadOnlyList<int> cpus = MinissRuntime.AvailableCpus();
        return new InfoReport(
            InfoReport.SchemaVersion,
            RunDescription<InfoRunOptions>.Describe("info", backend.Name is { } name ? [name] : [], cpus.Count, started, new InfoRunOptions()),
            cpus,
            new InfoLimits(memlock, descriptors),
            new InfoBufferPool(defaults.BufferPool.SizeClasses, defaults.BufferPool.Alignment, defaults.BufferPool.MaxMemory),
            backend,
            new InfoIoUring(io.IsAvailable, io.UnavailableReason, io.IsAvailable ? io.LastOperation : null,
                io.FeatureNames, io.AcceptedSetupFlags, io.SupportedOperations));
    }

    private static unsafe void WriteText(TextWriter output)
    {
        output.WriteLine($"Miniss {BuildInfo.Version} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture}), .NET {Environment.Version}");
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
        var classes = new List<string>();
        foreach (int c in defaults.BufferPool.SizeClasses)
        {
            classes.Add(c >= 1 << 20 ? $"{c >> 20}M" : $"{c >> 10}K");
        }

        output.WriteLine($"Shards: one per CPU this process may run on ({string.Join(',', MinissRuntime.AvailableCpus())}), each pinned with sched_setaffinity when the kernel allows");
        output.WriteLine($"Buffer pool per shard: classes {string.Join(' ', classes)}, " +
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
        output.WriteLine($"  registered ring descriptor (IORING_ENTER_REGISTERED_RING): {(io.RegisteredRingDescriptor ? "yes" : "no")}");
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
