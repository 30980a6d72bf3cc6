using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace Miniss.NetBenchmarks;

/// <summary>
/// A server or load generator of the benchmark in its own process: this program again (or wrk), with its own
/// environment, so that settings read at start-up (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS) apply to it alone.
/// Servers stop when their standard input closes; anything still running at disposal is killed.
/// </summary>
internal sealed partial class ChildProcess : IDisposable
{
    private const int ClockTicksName = 2; // _SC_CLK_TCK
    private static readonly double s_clockTicksPerSecond = Sysconf(ClockTicksName);
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _errors = [];

    private ChildProcess(string name, ProcessStartInfo start)
    {
        Name = name;
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else
            {
                _lines.Writer.TryWrite(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_errors)
                {
                    _errors.Add(e.Data);
                }
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>What the child is, for messages.</summary>
    public string Name { get; }

    /// <summary>Starts this program with <paramref name="arguments"/>; with <paramref name="inlineCompletions"/> .NET
    /// sockets complete their operations on the event thread (set before the runtime starts, as it must be).</summary>
    public static ChildProcess StartSelf(string name, bool inlineCompletions, string? backend, params string[] arguments) =>
        new(name, SelfStartInfo(null, inlineCompletions, backend, arguments));

    /// <summary>Starts this program as <see cref="StartSelf"/> does, confined to <paramref name="cpus"/> (a
    /// <c>taskset -c</c> list, which is then all that .NET and Miniss see of the machine).</summary>
    public static ChildProcess StartSelfOn(string cpus, string name, string? backend, params string[] arguments) =>
        new(name, SelfStartInfo(cpus, inlineCompletions: false, backend, arguments));

    private static ProcessStartInfo SelfStartInfo(string? cpus, bool inlineCompletions, string? backend, string[] arguments)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(cpus is null ? host : "taskset");
        if (cpus is not null)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(cpus);
            start.ArgumentList.Add(host);
        }

        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The Miniss backend of this process only (MINISS_BACKEND), or the probe's choice.
        start.Environment.Remove("MINISS_BACKEND");
        if (backend is not null)
        {
            start.Environment["MINISS_BACKEND"] = backend;
        }

        start.Environment.Remove("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS");
        if (inlineCompletions)
        {
            start.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        }

        return start;
    }

    /// <summary>Starts another program (wrk).</summary>
    public static ChildProcess StartTool(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new ChildProcess(tool, start);
    }

    /// <summary>Waits for the next line that starts with <paramref name="prefix"/> and returns it; fails if the child
    /// ends or <paramref name="timeout"/> passes first.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        using var bounded = new CancellationTokenSource(timeout);
        try
        {
            await foreach (string line in _lines.Reader.ReadAllAsync(bounded.Token).ConfigureAwait(false))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name}: no \"{prefix}\" line within {timeout.TotalSeconds:0} s{Errors()}");
        }

        throw new InvalidOperationException($"{Name} ended before printing \"{prefix}\"{Errors()}");
    }

    /// <summary>Everything the child printed, once it has exited.</summary>
    public async Task<string> ReadToEndAsync(TimeSpan timeout)
    {
        using var bounded = new CancellationTokenSource(timeout);
        var all = new List<string>();
        try
        {
            await foreach (string line in _lines.Reader.ReadAllAsync(bounded.Token).ConfigureAwait(false))
            {
                all.Add(line);
            }

            await _process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not finish within {timeout.TotalSeconds:0} s{Errors()}");
        }

        if (_process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode}{Errors()}");
        }

        return string.Join('\n', all);
    }

    /// <summary>CPU time (user + system) the child has used so far, from /proc/PID/stat.</summary>
    public double CpuSeconds()
    {
        string stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        // The command name in parentheses may hold spaces: count the fields after its closing parenthesis, where
        // field 3 (state) comes first, so utime (14) and stime (15) are the 12th and 13th.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / s_clockTicksPerSecond;
    }

    /// <summary>Closes the child's standard input (a server's signal to stop) and waits for it to exit.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _process.StandardInput.Close();
        using var bounded = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not stop within {timeout.TotalSeconds:0} s{Errors()}");
        }
    }

    /// <summary>Kills the child if it still runs.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }

    private string Errors()
    {
        lock (_errors)
        {
            return _errors.Count == 0 ? string.Empty : $"; its errors:\n{string.Join('\n', _errors)}";
        }
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long Sysconf(int name);
}
