using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.Soak;

/// <summary>
/// wrk against the HTTP server (<c>wrk -t1 -cN -dS</c>, loopback), run after run, each as long as a sample interval so
/// that every sample has the requests/s of its own stretch; the run in progress when the load stops is ended with
/// SIGINT, on which wrk prints what it measured so far.
/// </summary>
internal sealed partial class WrkLoad(string url, int connections, double runSeconds, RunClock clock)
{
    private static readonly TimeSpan s_exitTimeout = TimeSpan.FromSeconds(30);
    private readonly List<WrkRun> _runs = [];

    /// <summary>Every run so far. Any thread.</summary>
    public WrkRun[] Runs()
    {
        lock (_runs)
        {
            return [.. _runs];
        }
    }

    /// <summary>Runs wrk until <paramref name="stop"/> is cancelled, then ends the run in progress.</summary>
    /// <exception cref="SoakException">wrk could not be started, or printed nothing wrk-like.</exception>
    public async Task RunAsync(CancellationToken stop)
    {
        string duration = Math.Max(1, Math.Round(runSeconds)).ToString(CultureInfo.InvariantCulture) + "s";
        while (!stop.IsCancellationRequested)
        {
            var start = new ProcessStartInfo("wrk")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in new[] { "-t1", $"-c{connections}", $"-d{duration}", "--timeout", "10s", url })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = new Process { StartInfo = start };
            try
            {
                process.Start();
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new SoakException($"cannot run wrk: {e.Message}; install it (apt-get install wrk)");
            }

            try
            {
                Task<string> output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                Task<string> errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
                using (stop.Register(static state => Signals.Send((int)state!, Signals.SIGINT), process.Id))
                {
                    using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(runSeconds) + s_exitTimeout);
                    await process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
                }

                string text = await output.ConfigureAwait(false);
                WrkRun? run = Parse(text, clock.Seconds);
                if (run is null && stop.IsCancellationRequested)
                {
                    // Stopped before wrk set up its SIGINT handler: nothing was measured.
                    break;
                }

                if (run is null)
                {
                    throw new SoakException($"wrk printed no result (exit code {process.ExitCode}):\n{text}{await errors.ConfigureAwait(false)}");
                }

                lock (_runs)
                {
                    _runs.Add(run);
                }
            }
            catch (OperationCanceledException)
            {
                throw new SoakException($"wrk did not end within {(TimeSpan.FromSeconds(runSeconds) + s_exitTimeout).TotalSeconds:0} s of a {duration} run");
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    process.WaitForExit(10_000);
                }
            }
        }
    }

    /// <summary>Reads wrk's summary ("N requests in 5.00s, ..."), or <see langword="null"/> if it has none.</summary>
    internal static WrkRun? Parse(string output, double endSeconds)
    {
        Match total = TotalPattern().Match(output);
        if (!total.Success)
        {
            return null;
        }

        double seconds = double.Parse(total.Groups[2].Value, CultureInfo.InvariantCulture) * total.Groups[3].Value switch
        {
            "us" => 1e-6,
            "ms" => 1e-3,
            "m" => 60,
            "h" => 3600,
            _ => 1,
        };
        long errors = 0;
        Match socket = SocketErrorsPattern().Match(output);
        if (socket.Success)
        {
            for (int g = 1; g <= 4; g++)
            {
                errors += long.Parse(socket.Groups[g].Value, CultureInfo.InvariantCulture);
            }
        }

        Match non2xx = Non2xxPattern().Match(output);
        return new WrkRun(
            endSeconds,
            long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture),
            seconds,
            errors,
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    [GeneratedRegex(@"(\d+) requests in ([\d.]+)(us|ms|s|m|h)\b")]
    private static partial Regex TotalPattern();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsPattern();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex Non2xxPattern();
}
