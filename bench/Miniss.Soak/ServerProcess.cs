using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.Soak;

/// <summary>
/// One <c>miniss serve echo|http</c> in a process of its own (so its RSS and descriptors are its own), on a loopback
/// port nothing else listens on. Its standard output and error are kept (the last <see cref="KeptLines"/> lines) for
/// messages. <see cref="StopAsync"/> asks it to stop with SIGTERM; <see cref="Dispose"/> kills whatever still runs.
/// </summary>
internal sealed partial class ServerProcess : IDisposable
{
    private const int KeptLines = 50;
    private readonly Process _process;
    private readonly Queue<string> _lines = new();
    private int? _announcedShards;

    private ServerProcess(string kind, int port, Process process)
    {
        Kind = kind;
        Port = port;
        _process = process;
    }

    /// <summary><c>http</c> or <c>echo</c>.</summary>
    public string Kind { get; }

    /// <summary>The port it serves, on every address (<c>serve</c> binds the wildcard); the soak uses 127.0.0.1 only.</summary>
    public int Port { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once it has ended.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>The shard count the server printed when it started ("N shards"), if it printed one.</summary>
    public int? AnnouncedShards
    {
        get
        {
            lock (_lines)
            {
                return _announcedShards;
            }
        }
    }

    /// <summary>
    /// Starts <c><paramref name="miniss"/> serve <paramref name="kind"/> --port P</c> and waits until 127.0.0.1:P accepts
    /// a connection.
    /// </summary>
    /// <param name="miniss">The miniss executable.</param>
    /// <param name="kind">What it serves (the argument of <c>serve</c>).</param>
    /// <param name="backend">MINISS_BACKEND for the server, or <see langword="null"/> to remove the variable.</param>
    /// <param name="timeout">How long the server may take to accept a connection.</param>
    /// <param name="cancellation">Ends the wait early.</param>
    /// <exception cref="SoakException">The server ended or did not accept within <paramref name="timeout"/>.</exception>
    public static async Task<ServerProcess> StartAsync(string miniss, string kind, string? backend, TimeSpan timeout, CancellationToken cancellation)
    {
        int port = FreePort();
        var start = new ProcessStartInfo(miniss)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(kind);
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        start.Environment.Remove("MINISS_BACKEND");
        if (backend is not null)
        {
            start.Environment["MINISS_BACKEND"] = backend;
        }

        var process = new Process { StartInfo = start };
        var server = new ServerProcess(kind, port, process);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new SoakException($"cannot run '{miniss}': {e.Message}; build it with 'dotnet build samples/Miniss.Cli -c Release' or pass --miniss PATH");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilAcceptingAsync(timeout, cancellation).ConfigureAwait(false);
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    /// <summary>What /proc shows of the server now, or <see langword="null"/> once it has ended.</summary>
    public ProcessSample? Sample()
    {
        string proc = $"/proc/{_process.Id}";
        try
        {
            if (_process.HasExited)
            {
                return null;
            }

            long rss = 0;
            int threads = 0;
            foreach (string line in File.ReadLines($"{proc}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
                }
            }

            int descriptors = 0;
            foreach (string _ in Directory.EnumerateFileSystemEntries($"{proc}/fd"))
            {
                descriptors++;
            }

            int shards = 0;
            foreach (string task in Directory.EnumerateDirectories($"{proc}/task"))
            {
                try
                {
                    if (File.ReadAllText($"{task}/comm").StartsWith("miniss-shard-", StringComparison.Ordinal))
                    {
                        shards++;
                    }
                }
                catch (IOException)
                {
                    // The thread ended between the listing and the read.
                }
            }

            return new ProcessSample(rss, descriptors, threads, shards);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process ended while it was being read.
            return null;
        }
    }

    /// <summary>The I/O backend the server runs on, told by its descriptors: an io_uring instance, or an epoll one
    /// (the runtime prints neither; .NET's own sockets would also open an epoll instance, so io_uring wins).</summary>
    public string Backend()
    {
        bool epoll = false;
        try
        {
            foreach (string fd in Directory.EnumerateFileSystemEntries($"/proc/{_process.Id}/fd"))
            {
                string? target = new FileInfo(fd).LinkTarget;
                if (target == "anon_inode:[io_uring]")
                {
                    return "io_uring";
                }

                epoll |= target == "anon_inode:[eventpoll]";
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }

        return epoll ? "epoll" : "unknown";
    }

    /// <summary>
    /// Asks the server to stop (SIGTERM) and waits up to <paramref name="grace"/>; then kills it (SIGKILL).
    /// </summary>
    /// <returns>The exit code and whether it had to be killed.</returns>
    public async Task<(int ExitCode, bool Killed)> StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            Signals.Send(_process.Id, Signals.SIGTERM);
            using var bounded = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Signals.Send(_process.Id, Signals.SIGKILL);
                await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                return (_process.ExitCode, true);
            }
        }

        return (_process.ExitCode, false);
    }

    /// <summary>The last lines the server printed (standard output and error), for messages.</summary>
    public string RecentOutput()
    {
        lock (_lines)
        {
            return _lines.Count == 0 ? "(nothing)" : string.Join('\n', _lines);
        }
    }

    /// <summary>Kills the server if it still runs (SIGKILL) and waits for it.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Signals.Send(_process.Id, Signals.SIGKILL);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            if (_announcedShards is null && ShardsPattern().Match(line) is { Success: true } match)
            {
                _announcedShards = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            }

            _lines.Enqueue(line);
            if (_lines.Count > KeptLines)
            {
                _lines.Dequeue();
            }
        }
    }

    private async Task WaitUntilAcceptingAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        long started = Stopwatch.GetTimestamp();
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new SoakException($"miniss serve {Kind} ended with exit code {_process.ExitCode} before it accepted a connection; it printed:\n{RecentOutput()}");
            }

            using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                try
                {
                    await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), cancellation).ConfigureAwait(false);
                    return;
                }
                catch (SocketException)
                {
                    // Not listening yet.
                }
            }

            if (Stopwatch.GetElapsedTime(started) > timeout)
            {
                throw new SoakException($"miniss serve {Kind} did not accept on 127.0.0.1:{Port} within {timeout.TotalSeconds:0} s; it printed:\n{RecentOutput()}");
            }

            await Task.Delay(200, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>A loopback port nothing listens on now (bound, then released for the server to take).</summary>
    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    [GeneratedRegex(@"\b(\d+) shards?\b")]
    private static partial Regex ShardsPattern();
}
