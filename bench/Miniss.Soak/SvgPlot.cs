using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Miniss.Soak;

/// <summary>
/// The report's plot, drawn here as plain SVG (no package, no font or script from anywhere): RSS above, open
/// descriptors below, one line per server over the soak's time, with the warm-up and the quiet pauses shaded.
/// </summary>
internal static class SvgPlot
{
    private const double Width = 880;
    private const double Height = 600;
    private const double Left = 72;
    private const double Right = 860;
    private const double PanelHeight = 200;
    private const double FirstTop = 64;
    private const double SecondTop = 330;
    private const string HttpColour = "#1f6fb4";
    private const string EchoColour = "#d9480f";
    private const string WarmupFill = "#fff3bf";
    private const string QuietFill = "#e9ecef";

    /// <summary>The whole SVG document.</summary>
    public static string Render(SoakOutcome outcome)
    {
        IReadOnlyList<SoakSample> samples = outcome.Samples;
        double end = samples.Count > 0 ? samples[^1].Seconds : 1;
        double xMax = NiceCeiling(Math.Max(end, 1));
        var s = new StringBuilder();
        s.Append(I($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" "));
        s.Append("font-family=\"sans-serif\" font-size=\"12\">\n");
        s.Append(I($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>\n"));
        s.Append(I($"<text x=\"{Width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">"));
        s.Append(Escape(I($"miniss serve http and serve echo: {(outcome.Passed ? "passed" : "FAILED")}, {outcome.Options.DurationSeconds:0} s under load")));
        s.Append("</text>\n");
        s.Append(I($"<text x=\"{Width / 2}\" y=\"42\" text-anchor=\"middle\" fill=\"#555555\">"));
        s.Append(Escape(outcome.Machine)).Append("</text>\n");

        Panel(s, samples, outcome.Phases, FirstTop, xMax, "RSS (MiB)", static p => p.RssMiB);
        Panel(s, samples, outcome.Phases, SecondTop, xMax, "open descriptors", static p => p.Descriptors);

        double axisY = SecondTop + PanelHeight;
        s.Append(I($"<text x=\"{(Left + Right) / 2}\" y=\"{axisY + 36}\" text-anchor=\"middle\">time since the load started (s)</text>\n"));
        double legendY = Height - 14;
        Legend(s, Left, legendY, HttpColour, "miniss serve http");
        Legend(s, Left + 170, legendY, EchoColour, "miniss serve echo");
        s.Append(I($"<rect x=\"{Left + 350}\" y=\"{legendY - 10}\" width=\"18\" height=\"12\" fill=\"{WarmupFill}\"/>"));
        s.Append(I($"<text x=\"{Left + 374}\" y=\"{legendY}\">warm-up</text>\n"));
        s.Append(I($"<rect x=\"{Left + 450}\" y=\"{legendY - 10}\" width=\"18\" height=\"12\" fill=\"{QuietFill}\"/>"));
        s.Append(I($"<text x=\"{Left + 474}\" y=\"{legendY}\">quiet (load paused)</text>\n"));
        s.Append("</svg>\n");
        return s.ToString();
    }

    private static void Panel(StringBuilder s, IReadOnlyList<SoakSample> samples, IReadOnlyList<PhaseSpan> phases, double top, double xMax, string title, Func<ProcessSample, double> value)
    {
        double bottom = top + PanelHeight;
        double yMax = 0;
        foreach (SoakSample sample in samples)
        {
            foreach (ProcessSample? p in new[] { sample.Http, sample.Echo })
            {
                if (p is ProcessSample v)
                {
                    yMax = Math.Max(yMax, value(v));
                }
            }
        }

        yMax = NiceCeiling(Math.Max(yMax * 1.1, 1));
        double X(double seconds) => Left + (Right - Left) * seconds / xMax;
        double Y(double v) => bottom - PanelHeight * v / yMax;

        // Phases behind the lines: the warm-up and the quiet pauses.
        foreach (PhaseSpan span in phases)
        {
            string? fill = span.Phase switch { "warm-up" => WarmupFill, "quiet" => QuietFill, _ => null };
            if (fill is not null)
            {
                s.Append(I($"<rect x=\"{X(span.From):0.#}\" y=\"{top}\" width=\"{Math.Max(X(span.To) - X(span.From), 1):0.#}\" height=\"{PanelHeight}\" fill=\"{fill}\"/>\n"));
            }
        }

        // Grid and axes.
        double yStep = NiceStep(yMax / 5);
        for (double y = 0; y <= yMax + yStep / 1000; y += yStep)
        {
            s.Append(I($"<line x1=\"{Left}\" y1=\"{Y(y):0.#}\" x2=\"{Right}\" y2=\"{Y(y):0.#}\" stroke=\"#dee2e6\"/>"));
            s.Append(I($"<text x=\"{Left - 6}\" y=\"{Y(y) + 4:0.#}\" text-anchor=\"end\">{Number(y)}</text>\n"));
        }

        double xStep = NiceStep(xMax / 8);
        for (double x = 0; x <= xMax + xStep / 1000; x += xStep)
        {
            s.Append(I($"<line x1=\"{X(x):0.#}\" y1=\"{bottom}\" x2=\"{X(x):0.#}\" y2=\"{bottom + 5}\" stroke=\"#495057\"/>"));
            s.Append(I($"<text x=\"{X(x):0.#}\" y=\"{bottom + 18}\" text-anchor=\"middle\">{Number(x)}</text>\n"));
        }

        s.Append(I($"<rect x=\"{Left}\" y=\"{top}\" width=\"{Right - Left}\" height=\"{PanelHeight}\" fill=\"none\" stroke=\"#495057\"/>\n"));
        s.Append(I($"<text x=\"{Left}\" y=\"{top - 8}\" font-weight=\"bold\">{Escape(title)}</text>\n"));

        Series(s, samples, static sample => sample.Http, value, X, Y, HttpColour);
        Series(s, samples, static sample => sample.Echo, value, X, Y, EchoColour);
    }

    /// <summary>One server's line; a sample where the server had ended breaks it.</summary>
    private static void Series(
        StringBuilder s,
        IReadOnlyList<SoakSample> samples,
        Func<SoakSample, ProcessSample?> select,
        Func<ProcessSample, double> value,
        Func<double, double> x,
        Func<double, double> y,
        string colour)
    {
        var points = new StringBuilder();
        var dots = new StringBuilder();
        void Flush()
        {
            if (points.Length > 0)
            {
                s.Append(I($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"{points.ToString().TrimEnd()}\"/>\n"));
                points.Clear();
            }
        }

        foreach (SoakSample sample in samples)
        {
            if (select(sample) is ProcessSample p)
            {
                points.Append(I($"{x(sample.Seconds):0.#},{y(value(p)):0.#} "));
                dots.Append(I($"<circle cx=\"{x(sample.Seconds):0.#}\" cy=\"{y(value(p)):0.#}\" r=\"2.5\" fill=\"{colour}\"/>"));
            }
            else
            {
                Flush();
            }
        }

        Flush();
        s.Append(dots).Append('\n');
    }

    private static void Legend(StringBuilder s, double x, double y, string colour, string label)
    {
        s.Append(I($"<line x1=\"{x}\" y1=\"{y - 4}\" x2=\"{x + 24}\" y2=\"{y - 4}\" stroke=\"{colour}\" stroke-width=\"3\"/>"));
        s.Append(I($"<text x=\"{x + 30}\" y=\"{y}\">{Escape(label)}</text>\n"));
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="rough"/>.</summary>
    private static double NiceStep(double rough)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(rough, 1e-9))));
        foreach (double factor in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            if (factor * power >= rough)
            {
                return factor * power;
            }
        }

        return 10 * power;
    }

    /// <summary>The smallest multiple of a nice step (for about five divisions) that holds <paramref name="value"/>.</summary>
    private static double NiceCeiling(double value)
    {
        double step = NiceStep(value / 5);
        return Math.Ceiling(value / step) * step;
    }

    private static string Number(double value) => value.ToString(value >= 10 || value == 0 ? "0" : "0.#", CultureInfo.InvariantCulture);

    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string I(FormattableString text) => FormattableString.Invariant(text);
}
