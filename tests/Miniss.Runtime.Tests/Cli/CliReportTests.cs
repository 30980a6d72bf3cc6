using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.RegularExpressions;
using Miniss.Cli;
using Miniss.Cli.Reports;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Cli;

/// <summary>
/// <c>miniss bench --report PATH.html</c>: one short run writes the page and the JSON document side by side; headless
/// Chromium renders the page without a single console message, and the rendered DOM holds each chart with a mark for
/// every figure the JSON document has. A page built from hostile names renders them as text; a path that cannot be
/// written is refused before any work.
/// </summary>
[TestFixture]
[Platform("Linux")]
[NonParallelizable]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CliReportTests
{
    private const int Usage = 2;

    private string _folder = null!;
    private JsonElement _results;
    private JsonElement _run;
    private string _html = null!;
    private HeadlessChromium.Rendering _rendering = null!;

    [OneTimeSetUp]
    public void RunBenchOnceAndRenderItsReport()
    {
        _folder = Directory.CreateTempSubdirectory("miniss-report-").FullName;
        string page = Path.Combine(_folder, "bench.html");
        string json = Path.Combine(_folder, "bench.json");
        var run = MinissProcess.Run(["bench", "--duration", "0.1", "--file-size", "1", "--connections", "2", "--shards", "2",
            "--json", json, "--report", page]);

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        Assert.That(run.Stderr, Does.Contain($"report written to {page}"), run.Transcript);
        Assert.That(run.Stdout, Does.Contain("ops/s"), "the table still goes to stdout");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(json));
        _results = document.RootElement.GetProperty("results").Clone();
        _run = document.RootElement.GetProperty("run").Clone();
        _html = File.ReadAllText(page);
        _rendering = HeadlessChromium.Render(page);
    }

    [OneTimeTearDown]
    public void RemoveTheFiles()
    {
        if (_folder is not null)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Test]
    public void Report_renders_in_headless_Chromium_without_a_console_message()
    {
        Assert.That(_rendering.ConsoleMessages, Is.Empty, "a page that runs no script and fetches nothing prints nothing");
        Assert.That(_rendering.Dom, Does.StartWith("<!DOCTYPE html>").Or.StartWith("<html"), "Chromium dumped the rendered DOM");
    }

    [Test]
    public void Report_is_self_contained()
    {
        Assert.That(_html, Does.Not.Contain("<script"), "no script, inline or fetched");
        Assert.That(Regex.IsMatch(_html, @"\b(src|href)\s*=\s*""(?!data:|#)", RegexOptions.IgnoreCase), Is.False, "nothing fetched: no src or href but data: and fragments");
        Assert.That(_html, Does.Contain("default-src 'none'"), "and the page forbids any fetch itself");
    }

    [Test]
    public void Report_has_a_throughput_bar_for_every_row()
    {
        Assert.That(RenderedReport.ChartProblems(_rendering.Dom, Expected(_results)), Is.Empty);
        string chart = RenderedReport.Svg(_rendering.Dom, "chart-throughput")!;
        foreach (JsonElement row in _results.EnumerateArray())
        {
            Assert.That(chart, Does.Contain($"data-workload=\"{row.GetProperty("workload").GetString()}\" data-runtime=\"{row.GetProperty("runtime").GetString()}\""));
        }
    }

    [Test]
    public void Report_has_a_latency_chart_per_workload_with_a_line_per_runtime()
    {
        RenderedReport.Expectation expected = Expected(_results);

        Assert.That(RenderedReport.Count(_rendering.Dom, "<svg id=\"chart-latency-"), Is.EqualTo(expected.Workloads.Count));
        for (int i = 0; i < expected.Workloads.Count; i++)
        {
            string chart = RenderedReport.Svg(_rendering.Dom, $"chart-latency-{i + 1}")!;
            Assert.That(RenderedReport.Count(chart, "<polyline class=\"series\""), Is.EqualTo(expected.LinesPerWorkload[i]), expected.Workloads[i]);
            Assert.That(RenderedReport.Count(chart, "<circle class=\"point\""), Is.EqualTo(5 * expected.LinesPerWorkload[i]), "p50, p90, p99, p99.9 and max");
        }
    }

    [Test]
    public void Report_has_a_ratio_bar_for_every_Miniss_row()
    {
        RenderedReport.Expectation expected = Expected(_results);

        Assert.That(expected.Ratios, Is.EqualTo(3), "three workloads on Miniss beside .NET");
        Assert.That(RenderedReport.Count(RenderedReport.Svg(_rendering.Dom, "chart-ratio")!, "<rect class=\"bar\""), Is.EqualTo(expected.Ratios));
    }

    [Test]
    public void Report_names_the_run()
    {
        string run = RenderedReport.Element(_rendering.Dom, "table", "run") ?? "";

        Assert.That(run, Does.Contain(_run.GetProperty("minissVersion").GetString()));
        Assert.That(run, Does.Contain(_run.GetProperty("kernel").GetString()));
        Assert.That(run, Does.Contain(_run.GetProperty("dotnetVersion").GetString()));
        Assert.That(run, Does.Contain(_run.GetProperty("backends")[0].GetString()));
        Assert.That(run, Does.Contain("--duration 0.1 --file-size 1 --connections 2 --shards 2"));
        Assert.That(run, Does.Contain(_run.GetProperty("startedUtc").GetDateTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void Hostile_names_render_as_text()
    {
        const string Script = "<script>console.error('escaped?')</script>";
        var rows = new List<BenchRow>
        {
            new($"reads {Script}", "Miniss", "io_uring", 1000, 1, 1000, new LatencySummary(1, 2, 3, 4, 5), 0, 2),
            new($"reads {Script}", ".NET", null, 500, 1, 500, new LatencySummary(2, 3, 4, 5, 6), 8, null),
            new($"reads {Script}", "C \"liburing\" & <img src=x>", null, 800, 1, 800, new LatencySummary(0, 1, 2, 3, 4), 0, null),
        };
        var run = new RunDescription<BenchRunOptions>("bench", "0.1.0", "abc", ["io_uring"], 2, "</td><img src=x onerror=alert(1)>", 2,
            "6.1 <b>", "Linux", "x64", "10.0.0", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
            new BenchRunOptions(["auto"], 1, 1, 2, 2, 32));
        string page = Path.Combine(_folder, "hostile.html");
        File.WriteAllText(page, BenchReportHtml.Render(new BenchReport(BenchReport.SchemaVersion, run, rows)));

        HeadlessChromium.Rendering rendering = HeadlessChromium.Render(page);

        Assert.That(rendering.ConsoleMessages, Is.Empty, "the names were not run as script");
        Assert.That(rendering.Dom, Does.Not.Contain("<script").And.Not.Contain("<img").And.Not.Contain("<b>"));
        Assert.That(rendering.Dom, Does.Contain("reads &lt;script&gt;console.error('escaped?')&lt;/script&gt;"), "shown as text");
        Assert.That(RenderedReport.ChartProblems(rendering.Dom, new RenderedReport.Expectation(3, [$"reads {Script}"], [3], 1)), Is.Empty,
            "a third runtime (a C row) is drawn beside Miniss and .NET");
    }

    [Test]
    public void The_render_check_sees_a_console_message_and_a_missing_chart()
    {
        // Guards the tests above: a check that saw nothing would let every page pass.
        string page = Path.Combine(_folder, "broken.html");
        File.WriteAllText(page, """
            <!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head>
            <body><img src="http://127.0.0.1:9/chart.png" alt=""><svg id="chart-ratio" class="chart"></svg></body></html>
            """);

        HeadlessChromium.Rendering rendering = HeadlessChromium.Render(page);
        IReadOnlyList<string> problems = RenderedReport.ChartProblems(rendering.Dom, new RenderedReport.Expectation(2, ["w"], [2], 1));

        Assert.That(rendering.ConsoleMessages, Has.Some.Contains("Content Security Policy"), "the blocked image is reported");
        Assert.That(problems, Has.Some.EqualTo("svg#chart-throughput is missing"));
        Assert.That(problems, Has.Some.EqualTo("svg#chart-latency-1 is missing"));
        Assert.That(problems, Has.Some.EqualTo("svg#chart-ratio has 0 bars, expected 1"));
    }

    [Test]
    public void Report_to_a_missing_folder_is_refused_before_any_work()
    {
        string missing = Path.Combine(_folder, "no-such-folder");
        string page = Path.Combine(missing, "bench.html");

        var run = MinissProcess.Run(["bench", "--report", page, "--duration", "0.05", "--file-size", "1", "--connections", "2"]);

        Assert.That(run.Exit, Is.EqualTo(Usage), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain($"'--report {page}': the folder '{missing}' does not exist"));
        Assert.That(run.Stderr, Does.Not.Contain("creating the file"), "refused before the run, not after it");
    }

    [Test]
    public void Report_to_a_path_this_user_may_not_write_is_refused_before_any_work()
    {
        // A folder only root may write, and miniss run as nobody.
        string folder = Path.Combine(_folder, "root-only");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(_folder, File.GetUnixFileMode(_folder) | UnixFileMode.OtherExecute);
        string page = Path.Combine(folder, "bench.html");

        var run = MinissProcess.Run(["bench", "--report", page, "--duration", "0.05", "--file-size", "1", "--connections", "2"], Wrappers.Nobody);

        Assert.That(run.Exit, Is.EqualTo(Usage), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain($"'--report {page}' cannot be written"));
        Assert.That(File.Exists(page), Is.False);
    }

    /// <summary>The charts a report of <paramref name="results"/> (the JSON document's rows) must hold.</summary>
    private static RenderedReport.Expectation Expected(JsonElement results)
    {
        var workloads = new List<string>();
        var lines = new List<int>();
        int ratios = 0;
        foreach (JsonElement row in results.EnumerateArray())
        {
            string workload = row.GetProperty("workload").GetString()!;
            if (!workloads.Contains(workload))
            {
                workloads.Add(workload);
                lines.Add(0);
            }

            if (row.GetProperty("latencyMicroseconds").ValueKind != JsonValueKind.Null)
            {
                lines[workloads.IndexOf(workload)]++;
            }

            if (row.GetProperty("ratioToDotNet").ValueKind != JsonValueKind.Null)
            {
                ratios++;
            }
        }

        return new RenderedReport.Expectation(results.GetArrayLength(), workloads, lines, ratios);
    }
}

/// <summary>What a rendered report's DOM (as Chromium serializes it) holds: its charts and their marks.</summary>
internal static class RenderedReport
{
    /// <summary>The charts a report must hold.</summary>
    /// <param name="Rows">Bars in the throughput chart: one per row.</param>
    /// <param name="Workloads">One latency chart each, in order.</param>
    /// <param name="LinesPerWorkload">Lines in each latency chart: one per row of the workload with latencies.</param>
    /// <param name="Ratios">Bars in the ratio chart: one per row with a ratio to .NET.</param>
    public sealed record Expectation(int Rows, IReadOnlyList<string> Workloads, IReadOnlyList<int> LinesPerWorkload, int Ratios);

    /// <summary>Every chart missing from <paramref name="dom"/>, or holding other marks than <paramref name="expected"/>;
    /// empty when all are there.</summary>
    public static IReadOnlyList<string> ChartProblems(string dom, Expectation expected)
    {
        var problems = new List<string>();
        Check("chart-throughput", "<rect class=\"bar\"", expected.Rows, "bars");
        for (int i = 0; i < expected.Workloads.Count; i++)
        {
            Check($"chart-latency-{i + 1}", "<polyline class=\"series\"", expected.LinesPerWorkload[i], "lines");
        }

        Check("chart-ratio", "<rect class=\"bar\"", expected.Ratios, "bars");
        return problems;

        void Check(string id, string mark, int count, string marks)
        {
            if (Svg(dom, id) is not { } chart)
            {
                problems.Add($"svg#{id} is missing");
            }
            else if (Count(chart, mark) != count)
            {
                problems.Add($"svg#{id} has {Count(chart, mark)} {marks}, expected {count}");
            }
            else if (!chart.Contains("<title", StringComparison.Ordinal))
            {
                problems.Add($"svg#{id} has no title");
            }
        }
    }

    /// <summary>The <c>svg</c> element whose id is <paramref name="id"/>, or <see langword="null"/>.</summary>
    public static string? Svg(string dom, string id) => Element(dom, "svg", id);

    /// <summary>The <paramref name="tag"/> element whose id is <paramref name="id"/> (not nested in one of its kind), or
    /// <see langword="null"/>.</summary>
    public static string? Element(string dom, string tag, string id)
    {
        Match match = Regex.Match(dom, $"<{tag}\\b[^>]*\\bid=\"{Regex.Escape(id)}\"[^>]*>.*?</{tag}>", RegexOptions.Singleline);
        return match.Success ? match.Value : null;
    }

    /// <summary>How often <paramref name="text"/> occurs in <paramref name="within"/>.</summary>
    public static int Count(string within, string text)
    {
        int count = 0;
        for (int at = within.IndexOf(text, StringComparison.Ordinal); at >= 0; at = within.IndexOf(text, at + text.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
