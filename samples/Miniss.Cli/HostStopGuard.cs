using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Miniss.Cli;

/// <summary>
/// Bounds the stop of a command that runs on the Generic Host, whose console lifetime turns the first Ctrl-C (SIGINT)
/// or SIGTERM into a graceful stop: once the host is stopping, the watchdog ends the process if it has not ended
/// <see cref="StopSignals.Grace"/> later, and a further SIGINT or SIGTERM ends it at once.
/// </summary>
internal sealed class HostStopGuard : IDisposable
{
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private readonly ExitWatchdog _watchdog;
    private readonly int _forcedExitCode;
    private readonly CancellationTokenRegistration _stopping;
    private int _signals;

    /// <param name="watchdog">Ends the process when the stop takes too long.</param>
    /// <param name="forcedExitCode">The exit code when the watchdog has to end the process.</param>
    /// <param name="stopping">The host's <c>IHostApplicationLifetime.ApplicationStopping</c>.</param>
    public HostStopGuard(ExitWatchdog watchdog, int forcedExitCode, CancellationToken stopping)
    {
        _watchdog = watchdog;
        _forcedExitCode = forcedExitCode;
        // Beside the console lifetime's own handlers, which run for the same signals and start the graceful stop.
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        _stopping = stopping.Register(static state => ((HostStopGuard)state!).ArmWatchdog("the stop"), this);
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _interrupt.Dispose();
        _terminate.Dispose();
    }

    private void ArmWatchdog(string what) =>
        _watchdog.Arm(StopSignals.Grace, $"did not stop within {StopSignals.Grace.TotalSeconds:0} s of {what}; exiting without waiting further", _forcedExitCode);

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Interlocked.Increment(ref _signals) == 1)
        {
            ArmWatchdog(context.Signal.ToString());
        }
        else
        {
            _watchdog.ExitNow($"{context.Signal} again: exiting without waiting for the stop", _forcedExitCode);
        }
    }
}
