using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Cli;

/// <summary>
/// The real <c>miniss</c> binary run as a child process, optionally under a wrapper (<c>setpriv</c>, <c>prlimit</c>):
/// its output collected line by line, waits bounded, signals sent, and the process killed if a test leaves it running.
/// </summary>
internal sealed class MinissProcess : IDisposable
{
    /// <summary>The miniss binary beside the tests.</summary>
    public static readonly string Binary = Path.Combine(AppContext.BaseDirectory, "miniss");

    /// <summary>The ceiling of every wait: a correct run never comes near it.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly string _command;

    private MinissProcess(IEnumerable<string> wrapper, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var all = new List<string>(wrapper) { Binary };
        all.AddRange(arguments);
        _command = string.Join(' ', all);
        var start = new ProcessStartInfo(all[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        for (int i = 1; i < all.Count; i++)
        {
            start.ArgumentList.Add(all[i]);
        }

        start.Environment.Remove(IoBackendSelection.EnvironmentVariable);
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string StandardOutput
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>What the process printed, for assertion messages.</summary>
    public string Transcript => $"$ {_command}\n[stdout]\n{StandardOutput}[stderr]\n{StandardError}";

    /// <summary>Starts <c>miniss</c> with <paramref name="arguments"/> (under <paramref name="wrapper"/>, a command
    /// prefix such as <c>prlimit --nofile=128:128</c>).</summary>
    public static MinissProcess Start(IEnumerable<string> arguments, IEnumerable<string>? wrapper = null, IReadOnlyDictionary<string, string>? environment = null) =>
        new(wrapper ?? [], arguments, environment);

    /// <summary>Runs <c>miniss</c> to its end (killing it and failing the test past <see cref="Patience"/>).</summary>
    public static (int Exit, string Stdout, string Stderr, string Transcript) Run(IEnumerable<string> arguments, IEnumerable<string>? wrapper = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        using MinissProcess process = Start(arguments, wrapper, environment);
        int exit = process.WaitForExit(Patience);
        return (exit, process.StandardOutput, process.StandardError, process.Transcript);
    }

    /// <summary>Waits for the process to exit; fails the test (after killing it) when it runs past <paramref name="timeout"/>.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            Kill();
            Assert.Fail($"miniss did not exit within {timeout.TotalSeconds} s\n{Transcript}");
        }

        _process.WaitForExit();   // drains the redirected output
        return _process.ExitCode;
    }

    /// <summary>Waits until standard output holds <paramref name="text"/>; fails the test if the process exits first or
    /// <see cref="Patience"/> passes.</summary>
    public void WaitForOutput(string text) => WaitFor(text, _stdout, "stdout");

    /// <summary>Waits until standard error (progress and the log) holds <paramref name="text"/>; fails the test if the
    /// process exits first or <see cref="Patience"/> passes.</summary>
    public void WaitForError(string text) => WaitFor(text, _stderr, "stderr");

    private void WaitFor(string text, StringBuilder stream, string name)
    {
        var clock = Stopwatch.StartNew();
        while (!Holds(stream, text))
        {
            if (_process.HasExited)
            {
                _process.WaitForExit();
                if (Holds(stream, text))
                {
                    return;
                }

                Assert.Fail($"miniss exited ({_process.ExitCode}) before printing '{text}' on {name}\n{Transcript}");
            }

            if (clock.Elapsed > Patience)
            {
                Kill();
                Assert.Fail($"miniss did not print '{text}' on {name} within {Patience.TotalSeconds} s\n{Transcript}");
            }

            Thread.Sleep(20);
        }
    }

    private static bool Holds(StringBuilder stream, string text)
    {
        lock (stream)
        {
            return stream.ToString().Contains(text, StringComparison.Ordinal);
        }
    }

    /// <summary>Waits until the process exits or its standard output holds <paramref name="text"/>, whichever comes
    /// first (bounded by <see cref="Patience"/>); <see langword="true"/> when it exited.</summary>
    public bool ExitsBeforePrinting(string text)
    {
        var clock = Stopwatch.StartNew();
        while (!_process.HasExited && !StandardOutput.Contains(text, StringComparison.Ordinal))
        {
            if (clock.Elapsed > Patience)
            {
                Kill();
                Assert.Fail($"miniss neither exited nor printed '{text}' within {Patience.TotalSeconds} s\n{Transcript}");
            }

            Thread.Sleep(20);
        }

        if (_process.HasExited)
        {
            _process.WaitForExit();
            return true;
        }

        return false;
    }

    /// <summary>Sends SIGTERM to the process (not to a wrapper's children: the wrappers used here exec miniss).</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        Assert.That(kill.WaitForExit(10_000) && kill.ExitCode == 0, Is.True, "kill -TERM");
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    /// <summary>Checks the promise of every failure: one line on stderr that starts with <c>miniss: </c> (log lines
    /// before it aside), and never a stack trace.</summary>
    public static void AssertOneLineFailure(string stderr, string transcript)
    {
        Assert.That(stderr, Does.Not.Contain("   at "), $"a stack trace reached the user\n{transcript}");
        Assert.That(stderr, Does.Not.Contain("Unhandled exception"), transcript);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] failures = Array.FindAll(lines, l => l.StartsWith("miniss: ", StringComparison.Ordinal));
        Assert.That(failures, Has.Length.EqualTo(1), $"one 'miniss: ' line\n{transcript}");
        Assert.That(lines[^1], Does.StartWith("miniss: "), $"the failure is the last line\n{transcript}");
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started, or already reaped.
        }
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.Append(line).Append('\n');
        }
    }
}
