using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Miniss.Cli;

/// <summary>Ctrl-C (SIGINT) and SIGTERM, taken over while a command runs: the first calls <c>stop</c> instead of ending
/// the process, so the command stops its runtime and removes its files itself and chooses its exit code; if it has not
/// ended <see cref="Grace"/> later, or at a second signal, the watchdog ends the process.</summary>
internal sealed class StopSignals : IDisposable
{
    /// <summary>How long a command may take to stop after the first signal.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(15);

    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private readonly Action _stop;
    private readonly ExitWatchdog _watchdog;
    private readonly int _forcedExitCode;
    private int _signals;

    /// <param name="stop">Asks the command to stop; called once, on the signal handling thread.</param>
    /// <param name="watchdog">Ends the process when the stop takes too long.</param>
    /// <param name="forcedExitCode">The exit code when the watchdog has to end the process.</param>
    public StopSignals(Action stop, ExitWatchdog watchdog, int forcedExitCode)
    {
        _stop = stop;
        _watchdog = watchdog;
        _forcedExitCode = forcedExitCode;
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Interlocked.Increment(ref _signals) == 1)
        {
            _watchdog.Arm(Grace, $"did not stop within {Grace.TotalSeconds:0} s of {context.Signal}; exiting without waiting further", _forcedExitCode);
            _stop();
        }
        else
        {
            _watchdog.ExitNow($"{context.Signal} again: exiting without waiting for the stop", _forcedExitCode);
        }
    }
}
