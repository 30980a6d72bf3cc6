using System;
using System.Collections.Generic;
using System.Globalization;

namespace Miniss.Soak;

/// <summary>The command line of <c>run</c>, validated.</summary>
internal sealed class SoakOptions
{
    /// <summary>Time under load in seconds, warm-up included (the settling pauses come on top).</summary>
    public double DurationSeconds { get; private set; } = 600;

    /// <summary>Seconds between samples; also the length of each wrk run, so each sample has its own requests/s.</summary>
    public double IntervalSeconds { get; private set; } = 5;

    /// <summary>Churn connections started per second against each server.</summary>
    public int ChurnRate { get; private set; } = 50;

    /// <summary>wrk's connections (<c>-c</c>) to the HTTP server.</summary>
    public int WrkConnections { get; private set; } = 64;

    /// <summary>MINISS_BACKEND for the servers, or <see langword="null"/> to let the runtime choose.</summary>
    public string? Backend { get; private set; }

    /// <summary>The miniss command, or <see langword="null"/> for the Release build of samples/Miniss.Cli.</summary>
    public string? MinissPath { get; private set; }

    /// <summary>Whether the report goes into docs/reliability.md and docs/soak-rss-fds.svg.</summary>
    public bool WriteDoc { get; private set; } = true;

    /// <summary>The warm-up at the start of the load: a tenth of the duration, within one interval and 60 s. Figures
    /// after it are compared with the quiet sample taken right after it.</summary>
    public double WarmupSeconds => Math.Clamp(DurationSeconds / 10, IntervalSeconds, 60);

    /// <summary>The arguments as given, for the report's command line (a <c>--miniss</c> path shown as PATH).</summary>
    public string CommandLine { get; private set; } = string.Empty;

    /// <exception cref="FormatException">An option is unknown, lacks its value or is out of range (the message says which).</exception>
    public static SoakOptions Parse(string[] args)
    {
        var options = new SoakOptions();
        var shown = new List<string>(args.Length);
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            switch (name)
            {
                case "--duration":
                    options.DurationSeconds = Number(name, Value(args, ref i), 20, 24 * 3600);
                    break;
                case "--interval":
                    options.IntervalSeconds = Number(name, Value(args, ref i), 1, 60);
                    break;
                case "--churn-rate":
                    options.ChurnRate = (int)Number(name, Value(args, ref i), 1, 1000, whole: true);
                    break;
                case "--wrk-connections":
                    options.WrkConnections = (int)Number(name, Value(args, ref i), 1, 1000, whole: true);
                    break;
                case "--backend":
                    options.Backend = Value(args, ref i);
                    if (options.Backend is not ("io_uring" or "epoll"))
                    {
                        throw new FormatException($"'--backend' takes io_uring or epoll, not '{options.Backend}'");
                    }

                    break;
                case "--miniss":
                    options.MinissPath = Value(args, ref i);
                    shown.Add(name);
                    shown.Add("PATH"); // a path of this machine stays out of the report
                    continue;
                case "--no-doc":
                    options.WriteDoc = false;
                    break;
                default:
                    throw new FormatException($"unknown option '{name}'");
            }

            shown.AddRange(args.AsSpan(shown.Count, i + 1 - shown.Count));
        }

        options.CommandLine = string.Join(' ', shown);

        if (options.DurationSeconds < 4 * options.IntervalSeconds)
        {
            throw new FormatException(
                $"'--duration {options.DurationSeconds}' leaves fewer than four samples at '--interval {options.IntervalSeconds}'; lengthen the first or shorten the second");
        }

        return options;
    }

    private static string Value(string[] args, ref int i) =>
        i + 1 < args.Length ? args[++i] : throw new FormatException($"'{args[i]}' needs a value");

    private static double Number(string name, string text, double min, double max, bool whole = false)
    {
        NumberStyles styles = whole ? NumberStyles.None : NumberStyles.AllowDecimalPoint;
        if (!double.TryParse(text, styles, CultureInfo.InvariantCulture, out double value) || value < min || value > max)
        {
            throw new FormatException($"'{name}' needs {(whole ? "a whole number" : "a number")} from {min} to {max}, not '{text}'");
        }

        return value;
    }
}
