using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Text;

namespace Miniss.Cli.Reports;

/// <summary>
/// The HTML page of <c>miniss bench --report</c>: one self-contained file, drawn from the same <see cref="BenchReport"/>
/// as the JSON document. It loads nothing (its Content-Security-Policy forbids every fetch and script; the style is
/// inline, the charts are inline SVG), so it opens the same offline, attached to a mail or from a CI artifact.
/// </summary>
/// <remarks>
/// The page holds the <c>run</c> block, three kinds of chart (<see cref="BenchCharts"/>) and the figures as a table.
/// Every string taken from the report (workload and runtime names, the CPU model, the kernel) is HTML-escaped.
/// </remarks>
internal static class BenchReportHtml
{
    private const string Style = """
        :root { color-scheme: light; --ink: #1f2937; --muted: #6b7280; --rule: #e5e7eb; }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
        h1 { font-size: 1.5rem; margin: 0 0 0.25rem; }
        h2 { font-size: 1.15rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid var(--rule); padding-bottom: 0.25rem; }
        h3 { font-size: 1rem; margin: 1.25rem 0 0.25rem; }
        p.note { color: var(--muted); margin: 0.25rem 0 0.75rem; }
        table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
        th, td { padding: 0.2rem 0.75rem 0.2rem 0; text-align: left; border-bottom: 1px solid var(--rule); vertical-align: top; }
        td.number, th.number { text-align: right; }
        table.run th { font-weight: 600; white-space: nowrap; }
        svg.chart { display: block; width: 100%; height: auto; max-width: 60rem; }
        svg.chart text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: var(--ink); }
        svg.chart text.group { font-weight: 600; }
        svg.chart text.axis { fill: var(--muted); }
        svg.chart line.grid { stroke: var(--rule); }
        svg.chart line.reference { stroke: var(--ink); stroke-dasharray: 4 3; }
        svg.chart polyline.series { fill: none; stroke-width: 2; }
        """;

    /// <summary>The whole page for <paramref name="report"/>, as one string.</summary>
    public static string Render(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        RunDescription<BenchRunOptions> run = report.Run;
        var html = new StringBuilder(32 * 1024);
        html.Append("""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <link rel="icon" href="data:,">

            """);
        html.Append("<title>miniss bench: ").Append(Text(string.Join(" and ", run.Backends))).Append(", ")
            .Append(Number(run.Shards)).Append(" shards, ").Append(Text(run.StartedUtc.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)))
            .Append("</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
        html.Append("<h1>miniss bench</h1>\n<p class=\"note\">Miniss ").Append(Text(run.MinissVersion)).Append(" on ")
            .Append(Text(string.Join(" and ", run.Backends))).Append(" with ").Append(Number(run.Shards)).Append(" shards beside .NET ")
            .Append(Text(run.DotnetVersion)).Append(", ").Append(Text(report.Schema)).Append(".</p>\n");

        AppendRun(html, run);

        html.Append("<h2>Operations per second</h2>\n<p class=\"note\">Each workload's bars share one scale, starting at zero; workloads differ too much to share one.</p>\n");
        BenchCharts.Throughput(html, report.Results);

        html.Append("<h2>Latency</h2>\n<p class=\"note\">One operation's await as its worker sees it, queueing behind the others in flight included, in microseconds on a logarithmic scale: p50, p90, p99, p99.9 from one histogram per worker merged at the end (each within 1/128 of the value it stands for), and the exact maximum.</p>\n");
        BenchCharts.Latencies(html, report.Results);

        html.Append("<h2>Ratio to .NET</h2>\n<p class=\"note\">Miniss's operations per second over .NET's on the same workload; above 1 Miniss did more.</p>\n");
        BenchCharts.Ratios(html, report.Results);

        AppendFigures(html, report.Results);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary><paramref name="value"/> escaped for HTML text and attribute values (<c>&lt; &gt; &amp; " '</c>).</summary>
    public static string Text(string? value) => WebUtility.HtmlEncode(value ?? "");

    /// <summary>A whole number with thousands separators.</summary>
    public static string Number(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A latency in microseconds: one decimal below 1000, whole above.</summary>
    public static string Microseconds(double value) =>
        value.ToString(value < 1000 ? "0.0" : "N0", CultureInfo.InvariantCulture);

    /// <summary>The <c>run</c> block: what ran, where, when, with which options.</summary>
    private static void AppendRun(StringBuilder html, RunDescription<BenchRunOptions> run)
    {
        BenchRunOptions options = run.Options;
        html.Append("<h2>Run</h2>\n<table class=\"run\" id=\"run\">\n");
        Row(html, "Miniss", run.MinissVersion);
        Row(html, "commit", run.Commit ?? "unknown (built outside a git checkout)");
        Row(html, "backend", string.Join(", ", run.Backends));
        Row(html, "shards", run.Shards.ToString(CultureInfo.InvariantCulture));
        Row(html, "CPU", string.Create(CultureInfo.InvariantCulture, $"{run.CpuModel ?? "unknown model"}, {run.Cpus} CPUs"));
        Row(html, "kernel", run.Kernel);
        Row(html, "OS", $"{run.Os} ({run.Architecture})");
        Row(html, ".NET", run.DotnetVersion);
        Row(html, "started", run.StartedUtc.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
        Row(html, "options", string.Create(CultureInfo.InvariantCulture,
            $"--backend {string.Join(",", options.Backends)} --duration {options.DurationSeconds:0.###} --file-size {options.FileSizeMiB} --connections {options.Connections}{(options.Shards is { } shards ? $" --shards {shards}" : "")}; {options.ReadsInFlightPerCore} reads in flight per core"));
        html.Append("</table>\n");

        static void Row(StringBuilder html, string name, string value) =>
            html.Append("<tr><th scope=\"row\">").Append(Text(name)).Append("</th><td>").Append(Text(value)).Append("</td></tr>\n");
    }

    /// <summary>Every figure as a table, for reading the exact values and for whoever cannot see the charts.</summary>
    private static void AppendFigures(StringBuilder html, IReadOnlyList<BenchRow> rows)
    {
        html.Append("""
            <h2>Figures</h2>
            <table id="figures">
            <thead><tr><th>workload</th><th>runtime</th><th class="number">operations</th><th class="number">seconds</th><th class="number">ops/s</th><th class="number">p50 µs</th><th class="number">p90 µs</th><th class="number">p99 µs</th><th class="number">p99.9 µs</th><th class="number">max µs</th><th class="number">B/op</th><th class="number">vs .NET</th></tr></thead>
            <tbody>

            """);
        foreach (BenchRow row in rows)
        {
            LatencySummary? latency = row.LatencyMicroseconds;
            html.Append("<tr><td>").Append(Text(row.Workload)).Append("</td><td>").Append(Text(row.Runtime)).Append("</td>");
            Cell(html, Number(row.Operations));
            Cell(html, row.Seconds.ToString("0.000", CultureInfo.InvariantCulture));
            Cell(html, Number(row.OperationsPerSecond));
            Cell(html, latency is null ? "-" : Microseconds(latency.P50));
            Cell(html, latency is null ? "-" : Microseconds(latency.P90));
            Cell(html, latency is null ? "-" : Microseconds(latency.P99));
            Cell(html, latency is null ? "-" : Microseconds(latency.P999));
            Cell(html, latency is null ? "-" : Microseconds(latency.Max));
            Cell(html, row.AllocatedBytesPerOperation is { } allocated ? allocated.ToString("0.0", CultureInfo.InvariantCulture) : "-");
            Cell(html, row.RatioToDotNet is { } ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "");
            html.Append("</tr>\n");
        }

        html.Append("</tbody>\n</table>\n");

        static void Cell(StringBuilder html, string value) => html.Append("<td class=\"number\">").Append(Text(value)).Append("</td>");
    }
}
