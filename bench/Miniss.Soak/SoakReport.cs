using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Miniss.Soak;

/// <summary>
/// The soak's section of docs/reliability.md, between <see cref="BeginMarker"/> and <see cref="EndMarker"/>: the
/// command, the machine, the verdict, a summary per server and the samples as a table, with the plot
/// (<see cref="PlotFile"/>, beside the page) of RSS and descriptors over time. The rest of the page is left as it is.
/// </summary>
internal static class SoakReport
{
    /// <summary>Opens the section this program writes.</summary>
    public const string BeginMarker = "<!-- soak:begin -->";

    /// <summary>Closes that section.</summary>
    public const string EndMarker = "<!-- soak:end -->";

    /// <summary>The plot's file name, in docs/ beside the page.</summary>
    public const string PlotFile = "soak-rss-fds.svg";

    /// <summary>The page when there is none yet: a title and an empty section.</summary>
    public const string NewPage = "# Reliability\n\n" + BeginMarker + "\n" + EndMarker + "\n";

    /// <summary>Rows of the sample table at most; with more samples every n-th is shown (the plot has them all).</summary>
    private const int MaxRows = 30;

    /// <summary>Puts <paramref name="section"/> in place of the one between the markers, or at the end of the page.</summary>
    public static string ReplaceSection(string page, string section) =>
        Benchmarking.DocumentSection.Replace(page, section, BeginMarker, EndMarker);

    /// <summary>The section, markers included. <paramref name="root"/> (the repository's folder) is removed from any
    /// text that might hold it, so no path of the machine reaches the page.</summary>
    public static string Section(SoakOutcome o, string root)
    {
        SoakOptions options = o.Options;
        var s = new StringBuilder();
        s.Append(BeginMarker).Append('\n');
        s.Append("## Soak: `miniss serve http` and `miniss serve echo` under load\n\n");
        int failed = 0;
        foreach (VerdictCheck check in o.Checks)
        {
            failed += check.Passed ? 0 : 1;
        }

        s.Append(o.Passed ? "**Verdict: passed** " : I($"**Verdict: failed** ({failed} of {o.Checks.Count} checks) "));
        s.Append(I($"in one run of {Minutes(o.Seconds)} on {o.Machine}, written by `dotnet cake --target=Soak`.\n\n"));
        s.Append("```sh\n");
        s.Append("dotnet tool restore && dotnet cake --target=Soak   # builds, runs about 10 minutes, rewrites this section\n");
        s.Append("dotnet run -c Release --project bench/Miniss.Soak --no-build -- run");
        s.Append(options.CommandLine.Length > 0 ? " " + Clean(options.CommandLine, root) : string.Empty).Append("   # this run, without the build\n");
        s.Append("```\n\n");

        s.Append("Each server runs in a process of its own, the Release build of `miniss serve http --port P` and `miniss serve echo --port P` ");
        s.Append(I($"({Backends(o)}; {Shards(o)}), on a free port; all traffic stays on 127.0.0.1. "));
        s.Append(I($"For {options.DurationSeconds:0} s, wrk loads the HTTP server (`wrk -t1 -c{options.WrkConnections} -d{options.IntervalSeconds:0}s`, run after run, "));
        s.Append("so each sample has its own requests/s), and a churn client opens ");
        s.Append(I($"{options.ChurnRate} connections/s to each server (at most {ChurnClient.MaxInFlight} open at once; a connection due beyond that is skipped and counted), "));
        s.Append("each in a cycle of ten: six send whole requests (one to three pipelined HTTP requests, some ending in `Connection: close`, or ");
        s.Append("64 B to 16 KiB of echo), check every answer and close; one sends half a request and shuts its side down, expecting the server to close; ");
        s.Append("one resets (SO_LINGER 0) right after a whole request, one after half a request, and one in the middle of a long answer ");
        s.Append(I($"(256 pipelined requests, or 64 KiB of echo). A connection not done within {ChurnClient.OperationTimeout.TotalSeconds:0} s fails. "));
        s.Append(I($"The first {options.WarmupSeconds:0} s are a warm-up; then the load pauses until each server's descriptor count holds still "));
        s.Append("(the quiet baseline), resumes, and pauses again at the end, when each server must answer one more checked request and then exit ");
        s.Append("with code 0 on SIGTERM.\n\n");
        s.Append(I($"Every {options.IntervalSeconds:0} s the soak reads each server's `/proc/PID`: `VmRSS` of `status`, the entries of `fd`, `Threads`, "));
        s.Append("and the threads named `miniss-shard-N` in `task/*/comm` (the shards alive). Pool buffers are not sampled: `miniss serve` prints no ");
        s.Append("buffer-pool counters (the runtime's `BufferPool.Stats` is readable in-process only), and RSS cannot stand in for them: each shard's ");
        s.Append("pool region (16 MiB by default) is resident from the start when it is registered with io_uring, and becomes resident as it is ");
        s.Append("carved otherwise, so its share of RSS tells the pool's size or high-water mark, not the buffers in use.\n\n");

        s.Append("| check | result | figures |\n| --- | --- | --- |\n");
        foreach (VerdictCheck check in o.Checks)
        {
            s.Append(I($"| {check.Requirement} | {(check.Passed ? "pass" : "**FAIL**")} | {Cell(Clean(check.Detail, root))} |\n"));
        }

        s.Append("\n| server | backend | shards | RSS MiB: start / after warm-up / peak / end | fds: start / after warm-up / peak / end | threads: after warm-up / end | churn connections | exit on SIGTERM |\n");
        s.Append("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (ServerOutcome server in new[] { o.Http, o.Echo })
        {
            s.Append(I($"| {server.Kind} | {server.Backend} | {server.Shards} | "));
            s.Append(I($"{Mib(server.Start)} / {Mib(server.AfterWarmup)} / {server.PeakRssMiB:0.0} / {Mib(server.End)} | "));
            s.Append(I($"{Fds(server.Start)} / {Fds(server.AfterWarmup)} / {server.PeakDescriptors} / {Fds(server.End)} | "));
            s.Append(I($"{Threads(server.AfterWarmup)} / {Threads(server.End)} | "));
            s.Append(I($"{server.Churn.Succeeded:N0} ok, {server.Churn.Failed:N0} failed, {server.Churn.Skipped:N0} skipped | "));
            s.Append(server.ExitCode is null ? "had ended |\n" : server.Killed ? I($"killed (exit code {server.ExitCode}) |\n") : I($"{server.ExitCode} |\n"));
        }

        long wrkRequests = 0;
        double wrkSeconds = 0;
        long socketErrors = 0;
        long non2xx = 0;
        foreach (WrkRun run in o.Wrk)
        {
            wrkRequests += run.Requests;
            wrkSeconds += run.Seconds;
            socketErrors += run.SocketErrors;
            non2xx += run.Non2xx;
        }

        s.Append(I($"\nwrk: {wrkRequests:N0} requests in {o.Wrk.Length} runs, {(wrkSeconds > 0 ? wrkRequests / wrkSeconds : 0):N0} requests/s over the time it ran, "));
        s.Append(I($"{socketErrors:N0} socket errors (connect, read, write, timeout), {non2xx:N0} responses other than 2xx/3xx. "));
        s.Append("Churn connections that succeeded, by kind (complete / half-written, closed / reset before the answer / half-written, reset / reset mid-stream): ");
        s.Append(I($"http {Kinds(o.Http.Churn)}; echo {Kinds(o.Echo.Churn)}."));
        foreach (ServerOutcome server in new[] { o.Http, o.Echo })
        {
            for (int i = 0; i < Math.Min(5, server.Churn.Reasons.Count); i++)
            {
                s.Append(i == 0 ? I($" Failures against {server.Kind}, most frequent first: ") : "; ");
                s.Append(I($"{Clean(server.Churn.Reasons[i].Key, root)} ({server.Churn.Reasons[i].Value:N0})"));
            }

            s.Append(server.Churn.Reasons.Count > 0 ? "." : string.Empty);
        }

        s.Append("\n\n").Append(I($"![RSS and open descriptors of both servers over time]({PlotFile})\n\n"));
        int step = Math.Max(1, (o.Samples.Count + MaxRows - 1) / MaxRows);
        if (step > 1)
        {
            s.Append(I($"Every {step}th sample (and the last); the plot shows all {o.Samples.Count}. "));
        }

        s.Append("Requests/s and connections/s are over the time since the row before; `quiet` rows are taken with the load paused.\n\n");
        s.Append("| time (s) | phase | http RSS MiB | http fds | http threads | http shards | echo RSS MiB | echo fds | echo threads | echo shards | wrk requests/s | churn conn/s (http) | churn conn/s (echo) |\n");
        s.Append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (int i = 0; i < o.Samples.Count; i++)
        {
            if (i % step != 0 && i != o.Samples.Count - 1)
            {
                continue;
            }

            SoakSample r = o.Samples[i];
            s.Append(I($"| {r.Seconds:0} | {r.Phase} | {Row(r.Http)} | {Row(r.Echo)} | "));
            s.Append(r.WrkRequestsPerSecond is double rate ? I($"{rate:N0}") : "-");
            s.Append(I($" | {r.HttpChurnPerSecond:0} | {r.EchoChurnPerSecond:0} |\n"));
        }

        s.Append('\n').Append(EndMarker).Append('\n');
        return s.ToString();
    }

    private static string Backends(SoakOutcome o) =>
        o.Http.Backend == o.Echo.Backend ? $"both on {o.Http.Backend}" : $"http on {o.Http.Backend}, echo on {o.Echo.Backend}";

    private static string Shards(SoakOutcome o) =>
        o.Http.Shards == o.Echo.Shards ? $"{o.Http.Shards} shards each" : $"{o.Http.Shards} and {o.Echo.Shards} shards";

    private static string Kinds(ChurnCounters c)
    {
        var parts = new List<string>(c.ByOperation.Length);
        foreach (long count in c.ByOperation)
        {
            parts.Add(count.ToString("N0", CultureInfo.InvariantCulture));
        }

        return string.Join(" / ", parts);
    }

    private static string Row(ProcessSample? p) => p is ProcessSample s
        ? I($"{s.RssMiB:0.0} | {s.Descriptors} | {s.Threads} | {s.ShardThreads}")
        : "ended | - | - | -";

    private static string Mib(ProcessSample? p) => p is ProcessSample s ? I($"{s.RssMiB:0.0}") : "-";

    private static string Fds(ProcessSample? p) => p is ProcessSample s ? I($"{s.Descriptors}") : "-";

    private static string Threads(ProcessSample? p) => p is ProcessSample s ? I($"{s.Threads}") : "-";

    private static string Minutes(double seconds) => seconds >= 90 ? I($"{seconds / 60:0.0} min") : I($"{seconds:0} s");

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string Clean(string text, string root) =>
        root.Length > 1 ? text.Replace(root.TrimEnd('/'), ".", StringComparison.Ordinal) : text;

    private static string I(FormattableString text) => FormattableString.Invariant(text);
}
