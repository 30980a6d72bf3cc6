using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.Soak;

/// <summary>
/// The soak: both servers started, a warm-up under load, a quiet pause (the baseline), the rest of the load, a quiet
/// pause again (the end), a last request to each server, then SIGTERM; sampled throughout; judged against the
/// baseline; reported.
/// </summary>
internal sealed class SoakRun : IDisposable
{
    /// <summary>Descriptors a quiet server may hold at the end beyond what it held after the warm-up (code loaded late
    /// keeps a descriptor or two open per assembly).</summary>
    public const int DescriptorSlack = 8;

    /// <summary>RSS a server may gain over its quiet baseline: this many MiB, or <see cref="RssSlackFraction"/> of the
    /// baseline if that is more.</summary>
    public const double RssSlackMiB = 64;

    /// <summary>See <see cref="RssSlackMiB"/>.</summary>
    public const double RssSlackFraction = 0.5;

    /// <summary>The share of churn connections that may fail (a loaded machine can drop a rare one; a server going
    /// silent fails far more).</summary>
    public const double ChurnFailureLimit = 0.01;

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_settleCeiling = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_settlePoll = TimeSpan.FromMilliseconds(500);
    private const int SettledPolls = 4;

    private readonly SoakOptions _options;
    private readonly ServerProcess _http;
    private readonly ServerProcess _echo;
    private readonly RunClock _clock = new();
    private readonly WrkLoad _wrk;
    private readonly ChurnClient _httpChurn;
    private readonly ChurnClient _echoChurn;
    private readonly List<SoakSample> _samples = [];
    private readonly List<string> _events = [];
    private readonly CancellationTokenSource _serverEnded = new();
    private readonly List<PhaseSpan> _phases = [];
    private volatile string _phase = "warm-up";
    private double _phaseFrom;
    private double _lastSampleSeconds;
    private long _lastHttpFinished;
    private long _lastEchoFinished;
    private int _httpShards;
    private int _echoShards;

    private SoakRun(SoakOptions options, ServerProcess http, ServerProcess echo)
    {
        _options = options;
        _http = http;
        _echo = echo;
        _wrk = new WrkLoad($"http://127.0.0.1:{http.Port}/", options.WrkConnections, options.IntervalSeconds, _clock);
        _httpChurn = new ChurnClient("http", http.Port, options.ChurnRate);
        _echoChurn = new ChurnClient("echo", echo.Port, options.ChurnRate);
    }

    /// <summary>Runs the soak and writes its report; returns 0 if every check passed, else 1.</summary>
    /// <exception cref="SoakException">The soak could not run (the message says why).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="interrupted"/> was cancelled; every process the soak
    /// started has been stopped.</exception>
    public static async Task<int> RunAsync(SoakOptions options, CancellationToken interrupted)
    {
        string root = RepositoryRoot();
        string miniss = options.MinissPath ?? Path.Combine(root, DefaultMiniss());
        if (!File.Exists(miniss))
        {
            throw new SoakException(options.MinissPath is null
                ? "the miniss command is not built; run 'dotnet build bench/Miniss.Soak -c Release' (it builds samples/Miniss.Cli) or pass --miniss PATH"
                : $"'--miniss {miniss}': no such file");
        }

        string machine = MachineFacts.Describe();
        Console.WriteLine($"soak: {options.DurationSeconds:0} s under load ({options.WarmupSeconds:0} s of it warm-up), a sample every {options.IntervalSeconds:0} s, on {machine}");
        using ServerProcess http = await ServerProcess.StartAsync(miniss, "http", options.Backend, s_startTimeout, interrupted).ConfigureAwait(false);
        using ServerProcess echo = await ServerProcess.StartAsync(miniss, "echo", options.Backend, s_startTimeout, interrupted).ConfigureAwait(false);
        Console.WriteLine($"soak: miniss serve http on 127.0.0.1:{http.Port} (pid {http.Id}), miniss serve echo on 127.0.0.1:{echo.Port} (pid {echo.Id})");
        using var run = new SoakRun(options, http, echo);
        SoakOutcome outcome;
        try
        {
            outcome = await run.ExecuteAsync(machine, interrupted).ConfigureAwait(false);
        }
        finally
        {
            // Interrupted or failed: the servers still get SIGTERM first; the usings kill what remains.
            await Task.WhenAll(http.StopAsync(s_stopGrace), echo.StopAsync(s_stopGrace)).ConfigureAwait(false);
        }

        string section = SoakReport.Section(outcome, root);
        Console.WriteLine();
        Console.WriteLine(section);
        if (options.WriteDoc)
        {
            string docs = Path.Combine(root, "docs");
            Directory.CreateDirectory(docs);
            await File.WriteAllTextAsync(Path.Combine(docs, SoakReport.PlotFile), SvgPlot.Render(outcome), CancellationToken.None).ConfigureAwait(false);
            string page = Path.Combine(docs, "reliability.md");
            string existing = File.Exists(page) ? await File.ReadAllTextAsync(page, CancellationToken.None).ConfigureAwait(false) : SoakReport.NewPage;
            await File.WriteAllTextAsync(page, SoakReport.ReplaceSection(existing, section), CancellationToken.None).ConfigureAwait(false);
            Console.WriteLine($"soak: updated the soak section of docs/reliability.md and docs/{SoakReport.PlotFile}");
        }

        foreach (VerdictCheck check in outcome.Checks)
        {
            Console.WriteLine($"soak: {(check.Passed ? "pass" : "FAIL")}: {check.Requirement}: {check.Detail}");
        }

        Console.WriteLine(outcome.Passed ? "soak: PASSED" : "soak: FAILED");
        if (!outcome.Passed)
        {
            foreach (ServerProcess server in new[] { http, echo })
            {
                Console.WriteLine($"soak: the last lines of miniss serve {server.Kind}:\n{server.RecentOutput()}");
            }
        }

        return outcome.Passed ? 0 : 1;
    }

    /// <summary>Releases the churn clients and the token source the sampler cancels when a server ends.</summary>
    public void Dispose()
    {
        _httpChurn.Dispose();
        _echoChurn.Dispose();
        _serverEnded.Dispose();
    }

    private async Task<SoakOutcome> ExecuteAsync(string machine, CancellationToken interrupted)
    {
        ProcessSample? httpStart = _http.Sample();
        ProcessSample? echoStart = _echo.Sample();
        _httpShards = httpStart?.ShardThreads ?? 0;
        _echoShards = echoStart?.ShardThreads ?? 0;
        string httpBackend = _http.Backend();
        string echoBackend = _echo.Backend();
        TakeSample();

        using var stopSampling = new CancellationTokenSource();
        Task sampler = SampleAsync(stopSampling.Token);
        (ProcessSample? Http, ProcessSample? Echo) afterWarmup = (null, null);
        (ProcessSample? Http, ProcessSample? Echo) end = (null, null);
        string? httpProbe = "not asked (it had ended)";
        string? echoProbe = httpProbe;
        try
        {
            await LoadAsync(_options.WarmupSeconds, interrupted).ConfigureAwait(false);
            EnterPhase("quiet");
            afterWarmup = (await SettleAsync(_http, interrupted).ConfigureAwait(false), await SettleAsync(_echo, interrupted).ConfigureAwait(false));
            Console.WriteLine($"soak: after the warm-up, quiet: http {Describe(afterWarmup.Http)}; echo {Describe(afterWarmup.Echo)}");
            EnterPhase("load");
            await LoadAsync(_options.DurationSeconds - _options.WarmupSeconds, interrupted).ConfigureAwait(false);
            EnterPhase("quiet");
            end = (await SettleAsync(_http, interrupted).ConfigureAwait(false), await SettleAsync(_echo, interrupted).ConfigureAwait(false));
            Console.WriteLine($"soak: at the end, quiet: http {Describe(end.Http)}; echo {Describe(end.Echo)}");
            if (!_http.HasExited)
            {
                httpProbe = await _httpChurn.ProbeAsync(s_probeTimeout).ConfigureAwait(false);
            }

            if (!_echo.HasExited)
            {
                echoProbe = await _echoChurn.ProbeAsync(s_probeTimeout).ConfigureAwait(false);
            }
        }
        finally
        {
            await stopSampling.CancelAsync().ConfigureAwait(false);
            await sampler.ConfigureAwait(false);
        }

        TakeSample();
        double seconds = _clock.Seconds;
        EnterPhase("over");
        (int httpExit, bool httpKilled) = (0, false);
        (int echoExit, bool echoKilled) = (0, false);
        bool httpRan = !_http.HasExited;
        bool echoRan = !_echo.HasExited;
        (httpExit, httpKilled) = await _http.StopAsync(s_stopGrace).ConfigureAwait(false);
        (echoExit, echoKilled) = await _echo.StopAsync(s_stopGrace).ConfigureAwait(false);

        ServerOutcome http = Outcome("http", httpBackend, _httpShards, httpStart, afterWarmup.Http, end.Http, static s => s.Http, _httpChurn.Snapshot(), httpRan ? httpExit : null, httpKilled);
        ServerOutcome echo = Outcome("echo", echoBackend, _echoShards, echoStart, afterWarmup.Echo, end.Echo, static s => s.Echo, _echoChurn.Snapshot(), echoRan ? echoExit : null, echoKilled);
        WrkRun[] wrk = _wrk.Runs();
        var checks = new List<VerdictCheck>
        {
            Alive(http, echo),
            ShardsKept(),
            Answering(httpProbe, echoProbe),
            DescriptorsFlat(http, echo),
            RssBounded(http, echo),
            ChurnAnswered(http, echo),
            WrkServed(wrk),
            StoppedCleanly(http, echo),
        };
        SoakSample[] samples;
        lock (_samples)
        {
            samples = [.. _samples];
        }

        return new SoakOutcome(_options, machine, seconds, samples, [.. _phases], http, echo, wrk, checks);
    }

    /// <summary>Ends the current phase now and starts <paramref name="phase"/>.</summary>
    private void EnterPhase(string phase)
    {
        double now = _clock.Seconds;
        _phases.Add(new PhaseSpan(_phase, _phaseFrom, now));
        (_phase, _phaseFrom) = (phase, now);
    }

    /// <summary>wrk and both churn clients for <paramref name="seconds"/>, or until a server ends or the soak is interrupted.</summary>
    private async Task LoadAsync(double seconds, CancellationToken interrupted)
    {
        using var phase = CancellationTokenSource.CreateLinkedTokenSource(interrupted, _serverEnded.Token);
        if (!phase.IsCancellationRequested)
        {
            phase.CancelAfter(TimeSpan.FromSeconds(seconds));
            await Task.WhenAll(_wrk.RunAsync(phase.Token), _httpChurn.RunAsync(phase.Token), _echoChurn.RunAsync(phase.Token)).ConfigureAwait(false);
        }

        interrupted.ThrowIfCancellationRequested();
    }

    /// <summary>Waits, the load stopped, until the server's descriptor count holds still for <see cref="SettledPolls"/>
    /// polls (connections the clients closed are closed by the server too), at most <see cref="s_settleCeiling"/>.</summary>
    private static async Task<ProcessSample?> SettleAsync(ServerProcess server, CancellationToken interrupted)
    {
        ProcessSample? last = server.Sample();
        int still = 0;
        var clock = new RunClock();
        while (last is not null && still < SettledPolls && clock.Seconds < s_settleCeiling.TotalSeconds)
        {
            await Task.Delay(s_settlePoll, interrupted).ConfigureAwait(false);
            ProcessSample? next = server.Sample();
            still = next?.Descriptors == last.Value.Descriptors ? still + 1 : 0;
            last = next;
        }

        return last;
    }

    private async Task SampleAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.IntervalSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                TakeSample();
            }
        }
        catch (OperationCanceledException)
        {
            // The soak is over.
        }
    }

    private void TakeSample()
    {
        double now = _clock.Seconds;
        ProcessSample? http = _http.Sample();
        ProcessSample? echo = _echo.Sample();
        ChurnCounters httpChurn = _httpChurn.Snapshot();
        ChurnCounters echoChurn = _echoChurn.Snapshot();
        double elapsed = Math.Max(now - _lastSampleSeconds, 1e-3);
        long requests = 0;
        double measured = 0;
        foreach (WrkRun run in _wrk.Runs())
        {
            if (run.EndSeconds > _lastSampleSeconds && run.EndSeconds <= now)
            {
                requests += run.Requests;
                measured += run.Seconds;
            }
        }

        var sample = new SoakSample(
            now,
            _phase,
            http,
            echo,
            measured > 0 ? requests / measured : null,
            (httpChurn.Finished - _lastHttpFinished) / elapsed,
            (echoChurn.Finished - _lastEchoFinished) / elapsed);
        (_lastSampleSeconds, _lastHttpFinished, _lastEchoFinished) = (now, httpChurn.Finished, echoChurn.Finished);
        lock (_samples)
        {
            _samples.Add(sample);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"soak: {now,6:0}s {sample.Phase,-7} http {Describe(http)}; echo {Describe(echo)}; wrk {sample.WrkRequestsPerSecond?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"} req/s; " +
            $"churn {sample.HttpChurnPerSecond:0}/{sample.EchoChurnPerSecond:0} conn/s, failed {httpChurn.Failed}/{echoChurn.Failed}"));
        Note(http, _http, _httpShards, now);
        Note(echo, _echo, _echoShards, now);
    }

    /// <summary>Records a server that has ended (and ends the load) or has lost shard threads.</summary>
    private void Note(ProcessSample? sample, ServerProcess server, int shards, double now)
    {
        string? problem = sample is null
            ? $"the {server.Kind} server had ended at {now:0} s (exit code {(server.HasExited ? server.ExitCode.ToString(CultureInfo.InvariantCulture) : "?")})"
            : sample.Value.ShardThreads < shards
                ? $"the {server.Kind} server had {sample.Value.ShardThreads} of its {shards} shard threads at {now:0} s"
                : null;
        if (problem is null)
        {
            return;
        }

        lock (_events)
        {
            if (_events.Count < 20)
            {
                _events.Add(problem);
            }
        }

        Console.WriteLine($"soak: {problem}");
        if (sample is null)
        {
            _serverEnded.Cancel();
        }
    }

    private ServerOutcome Outcome(
        string kind,
        string backend,
        int shards,
        ProcessSample? start,
        ProcessSample? afterWarmup,
        ProcessSample? end,
        Func<SoakSample, ProcessSample?> select,
        ChurnCounters churn,
        int? exitCode,
        bool killed)
    {
        double peakRss = 0;
        int peakDescriptors = 0;
        lock (_samples)
        {
            foreach (SoakSample sample in _samples)
            {
                if (sample.Seconds >= _options.WarmupSeconds && select(sample) is ProcessSample s)
                {
                    peakRss = Math.Max(peakRss, s.RssMiB);
                    peakDescriptors = Math.Max(peakDescriptors, s.Descriptors);
                }
            }
        }

        return new ServerOutcome(kind, backend, shards, start, afterWarmup, end, peakRss, peakDescriptors, churn, exitCode, killed);
    }

    private VerdictCheck Alive(ServerOutcome http, ServerOutcome echo)
    {
        bool ended = _serverEnded.IsCancellationRequested || http.ExitCode is null || echo.ExitCode is null;
        return new VerdictCheck("both servers run until the soak stops them", !ended,
            ended ? FirstEvent("ended") : "both ran to the end");
    }

    private VerdictCheck ShardsKept()
    {
        string lost = FirstEvent("shard threads");
        foreach ((ServerProcess server, int threads) in new[] { (_http, _httpShards), (_echo, _echoShards) })
        {
            if (lost.Length == 0 && server.AnnouncedShards is int announced && announced != threads)
            {
                lost = $"the {server.Kind} server announced {announced} shards but ran {threads} miniss-shard threads when the load started";
            }
        }

        bool kept = lost.Length == 0 && _httpShards > 0 && _echoShards > 0;
        return new VerdictCheck("no shard thread is lost", kept,
            kept ? $"every sample shows {_httpShards} (http) and {_echoShards} (echo) miniss-shard threads" : lost.Length > 0 ? lost : "no miniss-shard thread was seen at the start");
    }

    private static VerdictCheck Answering(string? http, string? echo) =>
        new("each server answers a request after the load", http is null && echo is null,
            http is null && echo is null
                ? "a checked HTTP request and a checked echo, each answered"
                : $"http: {http ?? "answered"}; echo: {echo ?? "answered"}");

    private static VerdictCheck DescriptorsFlat(ServerOutcome http, ServerOutcome echo)
    {
        bool Flat(ServerOutcome s) => s.AfterWarmup is ProcessSample a && s.End is ProcessSample e && e.Descriptors <= a.Descriptors + DescriptorSlack;
        string Figures(ServerOutcome s) => s.AfterWarmup is ProcessSample a && s.End is ProcessSample e
            ? $"{s.Kind} {a.Descriptors} -> {e.Descriptors}"
            : $"{s.Kind} not measured";
        return new VerdictCheck($"descriptors, quiet, at the end at most {DescriptorSlack} above after the warm-up", Flat(http) && Flat(echo),
            $"{Figures(http)}; {Figures(echo)}");
    }

    private static VerdictCheck RssBounded(ServerOutcome http, ServerOutcome echo)
    {
        static double Limit(ProcessSample baseline) => baseline.RssMiB + Math.Max(RssSlackMiB, baseline.RssMiB * RssSlackFraction);
        bool Bounded(ServerOutcome s) => s.AfterWarmup is ProcessSample a && s.End is ProcessSample e && s.PeakRssMiB <= Limit(a) && e.RssMiB <= Limit(a);
        string Figures(ServerOutcome s) => s.AfterWarmup is ProcessSample a && s.End is ProcessSample e
            ? string.Create(CultureInfo.InvariantCulture, $"{s.Kind} {a.RssMiB:0.0} MiB after the warm-up, peak {s.PeakRssMiB:0.0}, end {e.RssMiB:0.0}, limit {Limit(a):0.0}")
            : $"{s.Kind} not measured";
        return new VerdictCheck(
            string.Create(CultureInfo.InvariantCulture, $"RSS after the warm-up stays within {RssSlackMiB:0} MiB or {RssSlackFraction * 100:0}% (the larger) above its quiet value after the warm-up"),
            Bounded(http) && Bounded(echo),
            $"{Figures(http)}; {Figures(echo)}");
    }

    private static VerdictCheck ChurnAnswered(ServerOutcome http, ServerOutcome echo)
    {
        static bool Answered(ChurnCounters c) => c.Finished > 0 && c.Failed <= c.Finished * ChurnFailureLimit;
        static string Figures(string kind, ChurnCounters c) =>
            string.Create(CultureInfo.InvariantCulture, $"{kind} {c.Failed} of {c.Finished:N0} failed, {c.Skipped:N0} skipped at the in-flight limit") +
            (c.Reasons.Count > 0 ? $" ({c.Reasons[0].Key}: {c.Reasons[0].Value})" : string.Empty);
        return new VerdictCheck(
            string.Create(CultureInfo.InvariantCulture, $"at most {ChurnFailureLimit * 100:0.#}% of churn connections fail"),
            Answered(http.Churn) && Answered(echo.Churn),
            $"{Figures("http", http.Churn)}; {Figures("echo", echo.Churn)}");
    }

    private VerdictCheck WrkServed(WrkRun[] runs)
    {
        int full = 0;
        int empty = 0;
        foreach (WrkRun run in runs)
        {
            // A run cut short when the load paused may rightly be empty; a full one with no request is a stall.
            if (run.Seconds >= _options.IntervalSeconds * 0.9)
            {
                full++;
                empty += run.Requests == 0 ? 1 : 0;
            }
        }

        return new VerdictCheck("every full wrk run completes requests", full > 0 && empty == 0,
            $"{full - empty} of {full} full runs of {_options.IntervalSeconds:0} s completed requests");
    }

    private static VerdictCheck StoppedCleanly(ServerOutcome http, ServerOutcome echo)
    {
        static bool Clean(ServerOutcome s) => s.ExitCode == 0 && !s.Killed;
        static string Figures(ServerOutcome s) => s.ExitCode is null ? $"{s.Kind} had already ended"
            : s.Killed ? $"{s.Kind} killed after {s_stopGrace.TotalSeconds:0} s (exit code {s.ExitCode})"
            : $"{s.Kind} exit code {s.ExitCode}";
        return new VerdictCheck($"each server exits with code 0 within {s_stopGrace.TotalSeconds:0} s of SIGTERM", Clean(http) && Clean(echo),
            $"{Figures(http)}; {Figures(echo)}");
    }

    private string FirstEvent(string containing)
    {
        lock (_events)
        {
            foreach (string e in _events)
            {
                if (e.Contains(containing, StringComparison.Ordinal))
                {
                    return e;
                }
            }
        }

        return string.Empty;
    }

    private static string Describe(ProcessSample? sample) => sample is ProcessSample s
        ? string.Create(CultureInfo.InvariantCulture, $"{s.RssMiB:0.0} MiB, {s.Descriptors} fds, {s.Threads} threads, {s.ShardThreads} shards")
        : "ended";

    /// <summary>The miniss command of the Release build, relative to the repository root (set by the project file).</summary>
    private static string DefaultMiniss()
    {
        foreach (AssemblyMetadataAttribute metadata in typeof(SoakRun).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>())
        {
            if (metadata.Key == "MinissCommand" && metadata.Value is not null)
            {
                return metadata.Value;
            }
        }

        throw new SoakException("this build does not say where the miniss command is; pass --miniss PATH");
    }

    private static string RepositoryRoot()
    {
        foreach (string? start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            string? directory = start;
            while (directory is not null && !File.Exists(Path.Combine(directory, "Miniss.sln")))
            {
                directory = Path.GetDirectoryName(directory.TrimEnd(Path.DirectorySeparatorChar));
            }

            if (directory is not null)
            {
                return directory;
            }
        }

        throw new SoakException("run the soak from inside the Miniss repository (no Miniss.sln above the current folder)");
    }
}
