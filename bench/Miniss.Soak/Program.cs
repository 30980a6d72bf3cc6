using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.Soak;

/// <summary>
/// <c>dotnet run -c Release --project bench/Miniss.Soak -- run</c>: <c>miniss serve http</c> and <c>miniss serve echo</c>,
/// each in a process of its own, under wrk and a churn client for a bounded time, with each server's RSS, descriptors,
/// threads and shard threads sampled; ends with a verdict (exit code 0 or 1) and rewrites the soak section of
/// docs/reliability.md and the plot beside it.
/// </summary>
public static class Program
{
    private const string Usage = """
        usage: Miniss.Soak run [--duration SECONDS] [--interval SECONDS] [--churn-rate N] [--wrk-connections N]
                               [--backend io_uring|epoll] [--miniss PATH] [--no-doc]
          --duration SECONDS     time under load, warm-up included (default 600; at least 20)
          --interval SECONDS     time between samples, and the length of each wrk run (default 5; 1 to 60)
          --churn-rate N         churn connections per second against each server (default 50; 1 to 1000)
          --wrk-connections N    wrk's connections to the HTTP server (default 64; 1 to 1000)
          --backend NAME         MINISS_BACKEND for both servers (default: the variable is removed; the runtime chooses)
          --miniss PATH          the miniss command to run (default: the Release build of samples/Miniss.Cli)
          --no-doc               print the report only; leave docs/reliability.md and docs/soak-rss-fds.svg as they are
        exit code: 0 the servers passed every check, 1 a check failed or the soak could not run, 2 usage,
                   130 stopped by SIGINT, SIGTERM or SIGHUP (every process it started is stopped first)
        """;

    /// <summary>Runs the soak (see the usage text); returns the process exit code.</summary>
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args is not ["run", .. var rest])
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        SoakOptions options;
        try
        {
            options = SoakOptions.Parse(rest);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"soak: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        using var interrupted = new CancellationTokenSource();
        void Interrupt(PosixSignalContext context)
        {
            // The soak's own finally blocks stop the servers and wrk; the process must not end before they ran.
            context.Cancel = true;
            Console.Error.WriteLine($"soak: {context.Signal}; stopping every process the soak started");
            interrupted.Cancel();
        }

        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        using PosixSignalRegistration sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Interrupt);
        try
        {
            return await SoakRun.RunAsync(options, interrupted.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            Console.Error.WriteLine("soak: interrupted; no report written");
            return 130;
        }
        catch (SoakException e)
        {
            Console.Error.WriteLine($"soak: {e.Message}");
            return 1;
        }
    }
}
