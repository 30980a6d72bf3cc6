using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;
using Miniss.Cli.Reports;
using Miniss.IO;
using Spectre.Console;

namespace Miniss.Cli;

/// <summary>The options of <c>miniss bench</c>.</summary>
internal sealed class BenchOptions
{
    public double DurationSeconds { get; set; } = 3;

    /// <summary>The I/O backends to run Miniss on, one after the other; <see cref="IoBackendKind.Auto"/> reads
    /// MINISS_BACKEND, then probes.</summary>
    public IReadOnlyList<IoBackendKind> Backends { get; set; } = [IoBackendKind.Auto];

    public int FileSizeMiB { get; set; } = 256;

    public int Connections { get; set; } = 64;

    public int? Shards { get; set; }

    /// <summary>Where the figures go as JSON: a path, <c>-</c> for stdout (instead of the table), or nowhere.</summary>
    public string? JsonPath { get; set; }

    /// <summary>Where the HTML page of the run goes, or nowhere.</summary>
    public string? ReportPath { get; set; }

    /// <summary>How progress is shown on stderr.</summary>
    public ProgressMode Progress { get; set; } = ProgressMode.Lines;
}

/// <summary><c>miniss bench</c>: Miniss's file reads, TCP echo and cross-core messages beside .NET's in one run.</summary>
internal static class BenchCommand
{
    private const int ReadsInFlight = 32;

    /// <summary>Descriptors a run may open besides the echo connections: per shard (its ring or epoll instance, eventfd,
    /// listener, file), and for the process (the .NET runtime, the console, the file, assemblies loaded late).</summary>
    private const int DescriptorsPerShard = 8;
    private const int DescriptorReserve = 64;

    /// <summary>How long a runtime may take to stop before the run gives up waiting for it.</summary>
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Checks, before any work, what the run will need from this machine: a descriptor for each end of every echo
    /// connection within RLIMIT_NOFILE (<paramref name="descriptorLimit"/>, already raised to the hard limit), and room
    /// for the temporary file in TMPDIR.
    /// </summary>
    /// <exception cref="UsageException">The run cannot fit; the message says which limit, which value and what to change.</exception>
    public static void Validate(BenchOptions options, long descriptorLimit, Microsoft.Extensions.Logging.ILogger logger)
    {
        int shards = options.Shards ?? Environment.ProcessorCount;
        int open = ProcessLimits.OpenDescriptors();
        long needed = open + (2L * options.Connections) + (DescriptorsPerShard * (long)shards) + DescriptorReserve;
        CliLog.Descriptors(logger, descriptorLimit, open, needed);
        if (needed > descriptorLimit)
        {
            long fitting = Math.Max(0, (descriptorLimit - open - (DescriptorsPerShard * (long)shards) - DescriptorReserve) / 2);
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"'--connections {options.Connections}' needs about {needed} descriptors (two per connection, the client's and the server's, plus {needed - (2L * options.Connections)} for the runtime) but RLIMIT_NOFILE allows {descriptorLimit} even raised to its hard limit: raise the hard limit (ulimit -Hn, LimitNOFILE= in a systemd unit){(fitting > 0 ? $" or use --connections {fitting} or fewer" : "")}"));
        }

        // A forced backend that cannot run here fails now, not after the temporary file is written.
        foreach (IoBackendKind backend in options.Backends)
        {
            try
            {
                _ = IoBackendSelection.Select(new RuntimeOptions { Backend = backend, ShardCount = options.Shards });
            }
            catch (Miniss.IO.Uring.IoUringUnavailableException e)
            {
                throw new CommandFailedException(FailureText.Describe(e), e);
            }
            catch (Exception e) when (e is PlatformNotSupportedException or ArgumentException)
            {
                throw new UsageException(FailureText.Describe(e));
            }
        }

        string folder = Path.GetTempPath();
        if (!Directory.Exists(folder))
        {
            throw new UsageException($"the temporary folder '{folder}' does not exist: set TMPDIR to an existing folder");
        }

        long fileSize = (long)options.FileSizeMiB << 20;
        long free;
        try
        {
            free = new DriveInfo(folder).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return;   // Unknown: writing the file will say.
        }

        if (free < fileSize)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"'--file-size {options.FileSizeMiB}' needs {options.FileSizeMiB} MiB in the temporary folder '{folder}' but it has {free >> 20} MiB free: use --file-size {Math.Max(1, free >> 20)} or less, or set TMPDIR to a folder with room"));
        }
    }

    /// <summary>Runs the benchmark: the file, then each backend's workloads, then .NET's; prints the table.</summary>
    /// <returns>0, or 130 when Ctrl-C or SIGTERM interrupted the run.</returns>
    /// <exception cref="CommandFailedException">A step failed; the message is the sentence to print.</exception>
    public static async Task<int> RunAsync(BenchOptions options, Microsoft.Extensions.Logging.ILoggerFactory logging, ExitWatchdog watchdog)
    {
        Microsoft.Extensions.Logging.ILogger logger = logging.CreateLogger("Miniss");
        // However a workload or the runtime stops making progress, the run ends: with generous room for each step.
        double plan = PlannedSeconds(options);
        watchdog.Arm(TimeSpan.FromSeconds(plan), string.Create(CultureInfo.InvariantCulture,
            $"the run is still going {plan:0} s after it began, far beyond its plan: a workload or the runtime stopped making progress (see the log above); exiting"), Program.RuntimeFailure);
        using var interrupt = new CancellationTokenSource();
        using var signals = new StopSignals(interrupt.Cancel, watchdog, Program.Interrupted);

        if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 120)
        {
            // Spectre assumes 80 columns without a terminal, which would wrap the table.
            AnsiConsole.Profile.Width = 120;
        }

        DateTime startedUtc = DateTime.UtcNow;
        var progress = new BenchProgress(options.Progress);

        var context = new BenchContext(options, s_stopTimeout, interrupt.Token);
        string path = Path.Combine(Path.GetTempPath(), $"miniss-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.dat");
        SafeFileHandle? file = null;
        long fileSize = (long)options.FileSizeMiB << 20;
        var results = new List<BenchResult>();
        MinissRuntime? runtime = null;
        bool interrupted = false;
        var backendNames = new List<string>();
        int shards = 0;
        try
        {
            file = await Step(progress, "creating the file", _ => CreateFileAsync(path, fileSize, interrupt.Token)).ConfigureAwait(false);
            string readPath = ReadPath(file, path);
            interrupt.Token.ThrowIfCancellationRequested();
            foreach (IoBackendKind backend in options.Backends)
            {
                interrupt.Token.ThrowIfCancellationRequested();
                runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = options.Shards, Backend = backend, LoggerFactory = logging });
                shards = runtime.ShardCount;
                string backendName = runtime.Backend.Name;
                backendNames.Add(backendName);
                progress.Line(RunLine(options, backendName, shards));

                // With several backends, each row names its own.
                string label = options.Backends.Count > 1 ? $"{Workloads.MinissName} {backendName}" : Workloads.MinissName;
                MinissRuntime miniss = runtime;
                results.Add(await Step(progress, $"{Workloads.FileRead}, {label}", update => Workloads.MinissFileReadAsync(context, miniss, readPath, fileSize, ReadsInFlight, update)).ConfigureAwait(false) with { Runtime = label, Backend = backendName });
                results.Add(await Step(progress, $"{Workloads.Echo}, {label}", update => Workloads.MinissEchoAsync(context, miniss, options.Connections, update)).ConfigureAwait(false) with { Runtime = label, Backend = backendName });
                results.Add(await Step(progress, $"{Workloads.PingPong}, {label}", update => Workloads.MinissPingPongAsync(context, miniss, update)).ConfigureAwait(false) with { Runtime = label, Backend = backendName });
                MinissRuntime stopping = runtime;
                runtime = null;
                try
                {
                    await stopping.StopAsync().AsTask().WaitAsync(s_stopTimeout).ConfigureAwait(false);
                }
                catch (TimeoutException e)
                {
                    throw new CommandFailedException($"the runtime on {backendName} did not stop within {s_stopTimeout.TotalSeconds} s after its workloads", e);
                }
            }

            results.Add(await Step(progress, $"{Workloads.FileRead}, .NET", update => Workloads.DotNetFileReadAsync(context, shards, readPath, fileSize, ReadsInFlight, update)).ConfigureAwait(false));
            results.Add(await Step(progress, $"{Workloads.Echo}, .NET", update => Workloads.DotNetEchoAsync(context, options.Connections, update)).ConfigureAwait(false));
            results.Add(await Step(progress, $"{Workloads.PingPong}, .NET", update => Workloads.DotNetPingPongAsync(context, shards, update)).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            interrupted = true;
        }
        finally
        {
            file?.Dispose();
            await Cleanup(runtime, path, logger).ConfigureAwait(false);
        }

        if (interrupted)
        {
            Console.Error.WriteLine("miniss bench: interrupted; the runtime is stopped and the temporary file deleted.");
            return Program.Interrupted;
        }

        foreach (BenchResult result in results)
        {
            if (result.Runtime.StartsWith(Workloads.MinissName, StringComparison.Ordinal)
                && results.Find(r => r.Workload == result.Workload && r.Runtime == Workloads.DotNetName) is { OperationsPerSecond: > 0 } dotnet)
            {
                result.RatioToDotNet = result.OperationsPerSecond / dotnet.OperationsPerSecond;
            }
        }

        BenchReport report = Report(options, backendNames, shards, startedUtc, results);
        Table table = Table(results, $"miniss bench: Miniss on {string.Join(" and ", backendNames)} with {shards} shards beside .NET");
        if (options.JsonPath == "-")
        {
            // stdout holds the document alone; the table is for whoever watches stderr.
            Console.Out.WriteLine(JsonSerializer.Serialize(report, ReportJson.Default.BenchReport));
            if (options.Progress != ProgressMode.None)
            {
                IAnsiConsole error = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                error.Profile.Width = Math.Max(error.Profile.Width, 120);
                error.Write(table);
            }
        }
        else
        {
            AnsiConsole.MarkupLine(Markup.Escape(RunLine(options, string.Join(" and ", backendNames), shards)));
            AnsiConsole.Write(table);
            if (options.JsonPath is { } json)
            {
                await WriteFileAsync(json, JsonSerializer.Serialize(report, ReportJson.Default.BenchReport) + "\n", "the figures").ConfigureAwait(false);
                progress.Line($"figures written to {json}");
            }
        }

        if (options.ReportPath is { } page)
        {
            await WriteFileAsync(page, BenchReportHtml.Render(report), "the report").ConfigureAwait(false);
            progress.Line($"report written to {page}");
        }

        return 0;
    }

    /// <summary>Writes <paramref name="text"/> (<paramref name="what"/>, for the failure's sentence) to <paramref name="path"/>.</summary>
    /// <exception cref="CommandFailedException">The file could not be written (it was checked before the run; the folder
    /// went away, the disk filled).</exception>
    private static async Task WriteFileAsync(string path, string text, string what)
    {
        try
        {
            await File.WriteAllTextAsync(path, text, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CommandFailedException($"{what} could not be written to '{path}': {FailureText.Describe(e)}", e);
        }
    }

    /// <summary>A bound on a whole run, in seconds: twice what each step may take at worst (the file at 10 MiB/s, each
    /// workload's warm-up, measurement and stop, each runtime's start and stop), plus a minute.</summary>
    private static double PlannedSeconds(BenchOptions options)
    {
        double file = options.FileSizeMiB / 10.0;
        double workload = 0.5 + options.DurationSeconds + s_stopTimeout.TotalSeconds + 10;   // warm-up, measure, stop, connect
        double runtimes = options.Backends.Count * 2 * s_stopTimeout.TotalSeconds;
        return (2 * (file + (3 * (options.Backends.Count + 1) * workload) + runtimes)) + 60;
    }

    /// <summary>What a run is: its backend, shards, and options.</summary>
    private static string RunLine(BenchOptions options, string backend, int shards) => string.Create(CultureInfo.InvariantCulture,
        $"miniss bench: backend {backend}, {shards} shards, {options.DurationSeconds:0.##} s per workload, {options.FileSizeMiB} MiB file, {options.Connections} connections, .NET {Environment.Version}");

    /// <summary>Runs one step, its progress on stderr, then reports its outcome there.</summary>
    private static async Task<T> Step<T>(BenchProgress progress, string title, Func<Action<string>, Task<T>> step)
    {
        T result;
        try
        {
            result = await progress.RunAsync(title, step).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (OperationCanceledException or CommandFailedException))
        {
            throw new CommandFailedException($"{title} failed: {FailureText.Describe(e)}", e);
        }

        progress.Line(result is BenchResult r
            ? string.Create(CultureInfo.InvariantCulture, $"  {title}: {r.OperationsPerSecond:N0} ops/s, p50 {Figure(r.Latency?.P50)} µs, p99 {Figure(r.Latency?.P99)} µs, {r.AllocatedBytesPerOperation:F1} B/op")
            : $"  {title}: done");
        return result;
    }

    /// <summary>Stops the runtime (waiting at most <see cref="s_stopTimeout"/>) and deletes the temporary file; logs,
    /// never throws, so the reason the run ended is the one reported.</summary>
    private static async Task Cleanup(MinissRuntime? runtime, string path, Microsoft.Extensions.Logging.ILogger logger)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CliLog.TemporaryFileKept(logger, path, FailureText.Describe(e));
        }

        if (runtime is not null)
        {
            try
            {
                await runtime.StopAsync().AsTask().WaitAsync(s_stopTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                CliLog.StopTimedOut(logger, "the runtime", s_stopTimeout.TotalSeconds);
            }
            catch (Exception e)
            {
                CliLog.StopFailed(logger, "the runtime", FailureText.Describe(e));
            }
        }
    }

    /// <summary>
    /// Creates the temporary file at <paramref name="path"/> and fills it with <paramref name="size"/> random bytes. On
    /// Linux its name is removed at once and the file lives on through the returned handle, so nothing is left behind
    /// however the process ends, SIGKILL included.
    /// </summary>
    /// <exception cref="CommandFailedException">The file could not be written (a full disk, a folder the user may not write).</exception>
    private static async Task<SafeFileHandle> CreateFileAsync(string path, long size, CancellationToken cancellation)
    {
        var random = new Random(42);
        byte[] chunk = new byte[1 << 20];
        SafeFileHandle? file = null;
        try
        {
            file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite, FileOptions.Asynchronous);
            if (OperatingSystem.IsLinux())
            {
                File.Delete(path);
            }

            for (long written = 0; written < size; written += chunk.Length)
            {
                random.NextBytes(chunk);
                await RandomAccess.WriteAsync(file, chunk.AsMemory(0, (int)Math.Min(chunk.Length, size - written)), written, cancellation).ConfigureAwait(false);
            }

            return file;
        }
        catch (Exception e)
        {
            file?.Dispose();
            File.Delete(path);
            if (e is IOException full && FailureText.IsDiskFull(full))
            {
                throw new CommandFailedException(string.Create(CultureInfo.InvariantCulture,
                    $"the temporary file '{path}' could not be written: no space left on its device after less than {size >> 20} MiB: use a smaller --file-size, or set TMPDIR to a folder with room"), e);
            }

            if (e is IOException or UnauthorizedAccessException)
            {
                throw new CommandFailedException($"the temporary file '{path}' could not be written: {FailureText.Describe(e)}: set TMPDIR to a folder this user may write", e);
            }

            throw;
        }
    }

    /// <summary>The path the workloads open the file by: on Linux the open descriptor's /proc/self/fd entry (the name is
    /// gone), elsewhere the name.</summary>
    private static string ReadPath(SafeFileHandle file, string path) =>
        OperatingSystem.IsLinux() ? $"/proc/self/fd/{file.DangerousGetHandle()}" : path;

    private static Table Table(List<BenchResult> results, string title)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title))
            .Caption("p50/p99/p99.9/max: one operation's await as its worker sees it, queueing behind the others in flight included; B/op: bytes allocated per operation; vs .NET: Miniss ops/s over .NET ops/s; ping-pong: Miniss SubmitTo to the next shard, .NET a channel pair per core");
        table.AddColumn(new TableColumn("workload").NoWrap());
        table.AddColumn("runtime");
        table.AddColumn(new TableColumn("ops/s").RightAligned());
        table.AddColumn(new TableColumn("p50 µs").RightAligned());
        table.AddColumn(new TableColumn("p99 µs").RightAligned());
        table.AddColumn(new TableColumn("p99.9 µs").RightAligned());
        table.AddColumn(new TableColumn("max µs").RightAligned());
        table.AddColumn(new TableColumn("B/op").RightAligned());
        table.AddColumn(new TableColumn("vs .NET").RightAligned().NoWrap());
        results.Sort((a, b) => a.Workload == b.Workload
            ? string.CompareOrdinal(b.Runtime, a.Runtime)
            : Order(a.Workload).CompareTo(Order(b.Workload)));
        foreach (BenchResult r in results)
        {
            table.AddRow(
                Markup.Escape(r.Workload),
                Markup.Escape(r.Runtime),
                r.OperationsPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                Figure(r.Latency?.P50),
                Figure(r.Latency?.P99),
                Figure(r.Latency?.P999),
                Figure(r.Latency?.Max),
                Figure(double.IsFinite(r.AllocatedBytesPerOperation) ? r.AllocatedBytesPerOperation : null),
                r.RatioToDotNet is { } ratio ? ratio.ToString("F2", CultureInfo.InvariantCulture) + "x" : "");
        }

        return table;
    }

    private static int Order(string workload) => workload switch
    {
        Workloads.FileRead => 0,
        Workloads.Echo => 1,
        _ => 2,
    };

    /// <summary>A figure with one decimal, or a dash when there is none (no operation completed).</summary>
    private static string Figure(double? figure) =>
        figure is { } value ? value.ToString("F1", CultureInfo.InvariantCulture) : "-";

    /// <summary>The figures as the JSON document of docs/schemas/miniss-bench.schema.json.</summary>
    private static BenchReport Report(BenchOptions options, List<string> backends, int shards, DateTime startedUtc, List<BenchResult> results)
    {
        var asked = new List<string>(options.Backends.Count);
        foreach (IoBackendKind backend in options.Backends)
        {
            asked.Add(IoBackendSelection.NameOf(backend));
        }

        var rows = new List<BenchRow>(results.Count);
        foreach (BenchResult r in results)
        {
            rows.Add(new BenchRow(r.Workload, r.Runtime, r.Backend, r.Operations, r.Seconds, r.OperationsPerSecond, r.Latency,
                double.IsFinite(r.AllocatedBytesPerOperation) ? r.AllocatedBytesPerOperation : null, r.RatioToDotNet));
        }

        var run = RunDescription<BenchRunOptions>.Describe("bench", backends, shards, startedUtc,
            new BenchRunOptions(asked, options.DurationSeconds, options.FileSizeMiB, options.Connections, options.Shards, ReadsInFlight));
        return new BenchReport(BenchReport.SchemaVersion, run, rows);
    }
}
