using System;
using System.Runtime.InteropServices;

namespace Miniss.Cli;

/// <summary>Ctrl-C (SIGINT) and SIGTERM, taken over while a command runs: each calls <c>stop</c> instead of ending the
/// process, so the command stops its runtime and removes its files itself, and chooses its exit code.</summary>
internal sealed class StopSignals : IDisposable
{
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    public StopSignals(Action stop)
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stop();
        });
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop();
        });
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
    }
}
