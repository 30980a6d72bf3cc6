using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Miniss.Cli;

/// <summary>
/// Ends the process with one line and a chosen exit code when a command outlives a deadline: after Ctrl-C or SIGTERM
/// (a stop that hangs must not keep the process alive), or when a bench run takes far longer than planned. Its thread is
/// started with the command, so firing acquires nothing (no thread, no descriptor, no assembly) at a moment when the
/// process may have none left; it exits with <c>_exit</c>, which runs no handler that could hang.
/// </summary>
internal sealed partial class ExitWatchdog : IDisposable
{
    private readonly object _gate = new();   // a Monitor: Wait and PulseAll need it
    private readonly Thread _thread;
    private long _deadline = long.MaxValue;   // Environment.TickCount64 at which to exit
    private string _sentence = "";
    private int _exitCode;
    private bool _disposed;

    public ExitWatchdog()
    {
        _thread = new Thread(Watch) { IsBackground = true, Name = "miniss-watchdog" };
        _thread.Start();
    }

    /// <summary>Exits with <paramref name="exitCode"/> after printing <c>miniss: sentence.</c> unless the process ends
    /// within <paramref name="after"/>; an earlier deadline already set stands.</summary>
    public void Arm(TimeSpan after, string sentence, int exitCode)
    {
        lock (_gate)
        {
            long deadline = Environment.TickCount64 + (long)after.TotalMilliseconds;
            if (deadline < _deadline)
            {
                _deadline = deadline;
                _sentence = sentence;
                _exitCode = exitCode;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Prints the sentence and exits at once.</summary>
    public void ExitNow(string sentence, int exitCode) => Arm(TimeSpan.Zero, sentence, exitCode);

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
    }

    private void Watch()
    {
        string sentence;
        int exitCode;
        lock (_gate)
        {
            while (true)
            {
                if (_disposed)
                {
                    return;
                }

                long left = _deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    break;
                }

                Monitor.Wait(_gate, (int)Math.Min(left, int.MaxValue));
            }

            sentence = _sentence;
            exitCode = _exitCode;
        }

        Console.Error.WriteLine($"miniss: {sentence}.");
        Console.Error.Flush();
        if (OperatingSystem.IsLinux())
        {
            ExitImmediately(exitCode);
        }

        Environment.Exit(exitCode);
    }

    [LibraryImport("libc.so.6", EntryPoint = "_exit")]
    private static partial void ExitImmediately(int status);
}
