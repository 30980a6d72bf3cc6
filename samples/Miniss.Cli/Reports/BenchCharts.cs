using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Miniss.Cli.Reports;

/// <summary>
/// The charts of the <c>miniss bench</c> report, drawn as inline SVG from its rows: operations per second per workload
/// and runtime (<c>svg#chart-throughput</c>), one latency-by-percentile chart per workload
/// (<c>svg.latency-chart</c>, <c>#chart-latency-1</c> on), and the ratio of each Miniss row to .NET's
/// (<c>svg#chart-ratio</c>). Every runtime a row names gets its own colour, so a C or tokio row, when a report has one,
/// is drawn beside Miniss's and .NET's.
/// </summary>
/// <remarks>
/// Each chart has a <c>&lt;title&gt;</c> (its accessible name) and each bar or point one of its own (its value, shown on
/// hover). Coordinates are in a fixed view box; the page's style scales it to the width available.
/// </remarks>
internal static class BenchCharts
{
    private const int Width = 760;
    private const int BarHeight = 18;
    private const int BarGap = 6;

    /// <summary>One colour per runtime, in the order runtimes first appear in the rows.</summary>
    private static readonly string[] s_palette = ["#2563eb", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#475569"];

    private static readonly string[] s_percentiles = ["p50", "p90", "p99", "p99.9", "max"];

    /// <summary>Operations per second: a group of bars per workload, one bar per runtime, each group on its own scale.</summary>
    public static void Throughput(StringBuilder html, IReadOnlyList<BenchRow> rows)
    {
        const int Label = 170;
        const int Group = 24;
        const int Plot = Width - Label - 140;   // room for the value after the longest bar

        List<string> workloads = Workloads(rows);
        List<string> runtimes = Runtimes(rows);
        int height = 8 + (workloads.Count * Group) + (rows.Count * (BarHeight + BarGap));
        Open(html, "chart-throughput", "chart", height, "Operations per second per workload and runtime");
        int y = 0;
        foreach (string workload in workloads)
        {
            Caption(html, 0, y + 17, workload, "group", "start");
            y += Group;
            double max = 0;
            foreach (BenchRow row in rows)
            {
                if (row.Workload == workload)
                {
                    max = Math.Max(max, row.OperationsPerSecond);
                }
            }

            foreach (BenchRow row in rows)
            {
                if (row.Workload != workload)
                {
                    continue;
                }

                double length = max > 0 ? Math.Max(1, row.OperationsPerSecond / max * Plot) : 1;
                string value = $"{BenchReportHtml.Number(row.OperationsPerSecond)} ops/s";
                Caption(html, Label - 8, y + 13, row.Runtime, null, "end");
                html.Append("<rect class=\"bar\" data-workload=\"").Append(BenchReportHtml.Text(workload))
                    .Append("\" data-runtime=\"").Append(BenchReportHtml.Text(row.Runtime)).Append('"');
                Coordinates(html, Label, y, length, BarHeight);
                html.Append(" fill=\"").Append(Colour(runtimes, row.Runtime)).Append("\"><title>")
                    .Append(BenchReportHtml.Text($"{workload}, {row.Runtime}: {value}")).Append("</title></rect>\n");
                Caption(html, Label + length + 6, y + 13, value, null, "start");
                y += BarHeight + BarGap;
            }
        }

        html.Append("</svg>\n");
    }

    /// <summary>Latency by percentile, one chart per workload: a line per runtime through p50, p90, p99, p99.9 and the
    /// maximum, on a logarithmic scale of microseconds.</summary>
    public static void Latencies(StringBuilder html, IReadOnlyList<BenchRow> rows)
    {
        const int Left = 78;
        const int Legend = 190;
        const int Top = 12;
        const int Plot = 220;
        const int Height = Top + Plot + 40;
        const double PlotWidth = Width - Left - Legend;

        List<string> workloads = Workloads(rows);
        List<string> runtimes = Runtimes(rows);
        for (int w = 0; w < workloads.Count; w++)
        {
            string workload = workloads[w];
            html.Append("<h3>").Append(BenchReportHtml.Text(workload)).Append("</h3>\n");
            Open(html, $"chart-latency-{(w + 1).ToString(CultureInfo.InvariantCulture)}", "chart latency-chart", Height,
                $"Latency of {workload} by percentile, in microseconds");

            // The scale: whole decades around every value of the workload (a value of 0 counts as one nanosecond).
            double low = double.MaxValue, high = 0;
            foreach (BenchRow row in rows)
            {
                if (row.Workload == workload && row.LatencyMicroseconds is { } latency)
                {
                    foreach (double value in Values(latency))
                    {
                        low = Math.Min(low, Positive(value));
                        high = Math.Max(high, Positive(value));
                    }
                }
            }

            if (high == 0)
            {
                Caption(html, Width / 2.0, Height / 2.0, "no operation completed", "axis", "middle");
                html.Append("</svg>\n");
                continue;
            }

            int lowDecade = (int)Math.Floor(Math.Log10(low));
            int highDecade = Math.Max(lowDecade + 1, (int)Math.Ceiling(Math.Log10(high)));
            double Y(double microseconds) => Top + (Plot * (1 - ((Math.Log10(Positive(microseconds)) - lowDecade) / (highDecade - lowDecade))));
            double X(int percentile) => Left + ((percentile + 0.5) * PlotWidth / s_percentiles.Length);

            for (int decade = lowDecade; decade <= highDecade; decade++)
            {
                double y = Y(Math.Pow(10, decade));
                Line(html, Left, y, Left + PlotWidth, y, "grid");
                Caption(html, Left - 6, y + 4, Decade(decade), "axis", "end");
            }

            for (int p = 0; p < s_percentiles.Length; p++)
            {
                Caption(html, X(p), Top + Plot + 20, s_percentiles[p], "axis", "middle");
            }

            int legend = 0;
            foreach (BenchRow row in rows)
            {
                if (row.Workload != workload)
                {
                    continue;
                }

                string colour = Colour(runtimes, row.Runtime);
                double legendY = Top + 8 + (legend++ * 20);
                html.Append("<rect");
                Coordinates(html, Width - Legend + 16, legendY - 9, 12, 12);
                html.Append(" fill=\"").Append(colour).Append("\"/>\n");
                if (row.LatencyMicroseconds is not { } latency)
                {
                    Caption(html, Width - Legend + 34, legendY + 2, $"{row.Runtime}: no operation completed", null, "start");
                    continue;
                }

                Caption(html, Width - Legend + 34, legendY + 2, row.Runtime, null, "start");
                double[] values = Values(latency);
                html.Append("<polyline class=\"series\" data-runtime=\"").Append(BenchReportHtml.Text(row.Runtime))
                    .Append("\" stroke=\"").Append(colour).Append("\" points=\"");
                for (int p = 0; p < values.Length; p++)
                {
                    html.Append(p == 0 ? "" : " ").Append(Coordinate(X(p))).Append(',').Append(Coordinate(Y(values[p])));
                }

                html.Append("\"/>\n");
                for (int p = 0; p < values.Length; p++)
                {
                    html.Append("<circle class=\"point\" cx=\"").Append(Coordinate(X(p))).Append("\" cy=\"").Append(Coordinate(Y(values[p])))
                        .Append("\" r=\"3.5\" fill=\"").Append(colour).Append("\"><title>")
                        .Append(BenchReportHtml.Text($"{workload}, {row.Runtime}, {s_percentiles[p]}: {BenchReportHtml.Microseconds(values[p])} µs"))
                        .Append("</title></circle>\n");
                }
            }

            html.Append("</svg>\n");
        }
    }

    /// <summary>Each Miniss row's operations per second over .NET's on the same workload, against a line at 1.</summary>
    public static void Ratios(StringBuilder html, IReadOnlyList<BenchRow> rows)
    {
        const int Label = 250;
        const int Top = 8;
        const int Plot = Width - Label - 60;

        int count = 0;
        double max = 1.5;
        foreach (BenchRow row in rows)
        {
            if (row.RatioToDotNet is { } ratio)
            {
                count++;
                max = Math.Max(max, ratio * 1.1);
            }
        }

        int height = Top + (Math.Max(1, count) * (BarHeight + BarGap)) + 36;
        Open(html, "chart-ratio", "chart", height, "Miniss operations per second over .NET's, per workload");
        if (count == 0)
        {
            Caption(html, Width / 2.0, Top + 14, "no workload ran on both Miniss and .NET", "axis", "middle");
            html.Append("</svg>\n");
            return;
        }

        double X(double ratio) => Label + (ratio / max * Plot);
        double bottom = Top + (count * (BarHeight + BarGap));
        double step = max <= 3 ? 0.5 : max <= 6 ? 1 : Math.Ceiling(max / 6);
        for (double tick = 0; tick <= max; tick += step)
        {
            Line(html, X(tick), Top, X(tick), bottom, "grid");
            Caption(html, X(tick), bottom + 16, $"{tick.ToString("0.#", CultureInfo.InvariantCulture)}x", "axis", "middle");
        }

        double y = Top;
        foreach (BenchRow row in rows)
        {
            if (row.RatioToDotNet is not { } ratio)
            {
                continue;
            }

            string value = $"{ratio.ToString("0.00", CultureInfo.InvariantCulture)}x";
            Caption(html, Label - 8, y + 13, $"{row.Workload}, {row.Runtime}", null, "end");
            html.Append("<rect class=\"bar\" data-workload=\"").Append(BenchReportHtml.Text(row.Workload))
                .Append("\" data-runtime=\"").Append(BenchReportHtml.Text(row.Runtime)).Append('"');
            Coordinates(html, Label, y, Math.Max(1, X(ratio) - Label), BarHeight);
            html.Append(" fill=\"").Append(ratio >= 1 ? "#16a34a" : "#ea580c").Append("\"><title>")
                .Append(BenchReportHtml.Text($"{row.Workload}, {row.Runtime}: {value} of .NET's operations per second"))
                .Append("</title></rect>\n");
            Caption(html, X(ratio) + 6, y + 13, value, null, "start");
            y += BarHeight + BarGap;
        }

        Line(html, X(1), Top - 4, X(1), bottom, "reference");
        Caption(html, X(1), bottom + 30, ".NET = 1x", "axis", "middle");
        html.Append("</svg>\n");
    }

    private static void Open(StringBuilder html, string id, string classes, double height, string title) =>
        html.Append("<svg id=\"").Append(id).Append("\" class=\"").Append(classes).Append("\" role=\"img\" viewBox=\"0 0 ")
            .Append(Width.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(Coordinate(height))
            .Append("\" aria-labelledby=\"").Append(id).Append("-title\"><title id=\"").Append(id).Append("-title\">")
            .Append(BenchReportHtml.Text(title)).Append("</title>\n");

    private static void Caption(StringBuilder html, double x, double y, string text, string? cssClass, string anchor)
    {
        html.Append("<text x=\"").Append(Coordinate(x)).Append("\" y=\"").Append(Coordinate(y)).Append("\" text-anchor=\"").Append(anchor).Append('"');
        if (cssClass is not null)
        {
            html.Append(" class=\"").Append(cssClass).Append('"');
        }

        html.Append('>').Append(BenchReportHtml.Text(text)).Append("</text>\n");
    }

    private static void Line(StringBuilder html, double x1, double y1, double x2, double y2, string cssClass) =>
        html.Append("<line class=\"").Append(cssClass).Append("\" x1=\"").Append(Coordinate(x1)).Append("\" y1=\"").Append(Coordinate(y1))
            .Append("\" x2=\"").Append(Coordinate(x2)).Append("\" y2=\"").Append(Coordinate(y2)).Append("\"/>\n");

    private static void Coordinates(StringBuilder html, double x, double y, double width, double height) =>
        html.Append(" x=\"").Append(Coordinate(x)).Append("\" y=\"").Append(Coordinate(y))
            .Append("\" width=\"").Append(Coordinate(width)).Append("\" height=\"").Append(Coordinate(height)).Append('"');

    /// <summary>The label of 10^<paramref name="decade"/> microseconds, in the unit that keeps it short (0.01 µs, 100 µs, 10 ms, 1 s).</summary>
    private static string Decade(int decade) => decade switch
    {
        < 0 => $"{Math.Pow(10, decade).ToString("0.###", CultureInfo.InvariantCulture)} µs",
        < 3 => $"{Math.Pow(10, decade).ToString("0", CultureInfo.InvariantCulture)} µs",
        < 6 => $"{Math.Pow(10, decade - 3).ToString("0", CultureInfo.InvariantCulture)} ms",
        _ => $"{Math.Pow(10, decade - 6).ToString("N0", CultureInfo.InvariantCulture)} s",
    };

    private static string Coordinate(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private static double[] Values(LatencySummary latency) => [latency.P50, latency.P90, latency.P99, latency.P999, latency.Max];

    /// <summary>A latency a logarithmic scale can place: 0 (an operation faster than the clock ticks) as 1 ns.</summary>
    private static double Positive(double microseconds) => Math.Max(microseconds, 0.001);

    private static string Colour(List<string> runtimes, string runtime) => s_palette[Math.Max(0, runtimes.IndexOf(runtime)) % s_palette.Length];

    /// <summary>The workloads in the order they first appear.</summary>
    private static List<string> Workloads(IReadOnlyList<BenchRow> rows)
    {
        var names = new List<string>();
        foreach (BenchRow row in rows)
        {
            if (!names.Contains(row.Workload))
            {
                names.Add(row.Workload);
            }
        }

        return names;
    }

    /// <summary>The runtimes in the order they first appear.</summary>
    private static List<string> Runtimes(IReadOnlyList<BenchRow> rows)
    {
        var names = new List<string>();
        foreach (BenchRow row in rows)
        {
            if (!names.Contains(row.Runtime))
            {
                names.Add(row.Runtime);
            }
        }

        return names;
    }
}
