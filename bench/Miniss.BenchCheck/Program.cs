using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Miniss.BenchCheck;

/// <summary>
/// <c>Miniss.BenchCheck ARTIFACTS BASELINE [--update-baseline]</c>: reads the figures of the short run that
/// <c>dotnet cake --target=BenchCheck</c> left in ARTIFACTS, computes every guarded Miniss/.NET and Miniss/C ratio,
/// prints each beside the baseline's, and ends with a one-line verdict. Exit code 0 when every ratio is within its
/// tolerance, 1 when one is below it or a row is missing on either side, 2 on a usage error. With
/// <c>--update-baseline</c> it rewrites BASELINE from this run instead (tolerances and spread notes kept).
/// </summary>
public static class Program
{
    private const string Usage = "usage: Miniss.BenchCheck ARTIFACTS BASELINE [--update-baseline]";

    /// <summary>Runs the check; returns the process exit code (see the type's summary).</summary>
    public static int Main(string[] args)
    {
        bool update = Array.IndexOf(args, "--update-baseline") >= 0;
        var positional = new List<string>();
        foreach (string arg in args)
        {
            if (arg != "--update-baseline")
            {
                positional.Add(arg);
            }
        }

        if (positional.Count != 2 || positional[0].StartsWith('-') || positional[1].StartsWith('-'))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        string artifacts = positional[0];
        string baselinePath = positional[1];
        try
        {
            Dictionary<string, double> figures = RunFigures.Read(artifacts);
            var measured = new Dictionary<string, double?>(StringComparer.Ordinal);
            foreach (RatioRow row in RatioRows.All)
            {
                measured[row.Id] = row.Measure(figures);
            }

            Baseline? previous = File.Exists(baselinePath) ? Baseline.Parse(File.ReadAllText(baselinePath)) : null;
            if (update)
            {
                Baseline updated = Baseline.Update(previous, RatioRows.All, measured, "dotnet cake --target=BenchCheck --update-baseline");
                File.WriteAllText(baselinePath, updated.ToJson());
                if (BusyMachine() is { } note)
                {
                    Console.WriteLine(note);
                }

                foreach (BaselineRow row in updated.Rows)
                {
                    Console.WriteLine($"{row.Id,-28} {row.Ratio,8:0.000}x  tolerance {row.Tolerance:P0}  {row.Description}");
                }

                Console.WriteLine($"BenchCheck: baseline rewritten from this run ({updated.Rows.Count} rows)");
                return 0;
            }

            if (previous is null)
            {
                Console.Error.WriteLine($"BenchCheck FAIL: there is no baseline at {baselinePath}: write one with --update-baseline");
                return 1;
            }

            IReadOnlyList<RowVerdict> verdicts = BaselineComparison.Compare(previous, measured);
            Console.Write(BaselineComparison.Table(verdicts));
            if (BusyMachine() is { } busy)
            {
                Console.WriteLine(busy);
            }

            Console.WriteLine(BaselineComparison.Verdict(verdicts));
            return BaselineComparison.Passed(verdicts) ? 0 : 1;
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or IOException or UnauthorizedAccessException or KeyNotFoundException)
        {
            Console.Error.WriteLine($"BenchCheck FAIL: {e.Message}");
            return 1;
        }
    }

    /// <summary>A warning when the 1-minute load average is above the CPU count: other work then shared the cores
    /// during the run, and the ratios move further than on a quiet machine (spinning rows most of all).</summary>
    private static string? BusyMachine()
    {
        try
        {
            string[] load = File.ReadAllText("/proc/loadavg").Split(' ');
            double oneMinute = double.Parse(load[0], CultureInfo.InvariantCulture);
            return oneMinute > Environment.ProcessorCount
                ? $"note: load average {load[0]} on {Environment.ProcessorCount} CPUs: other work shared the cores, so these ratios are less certain than the tolerances assume"
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
