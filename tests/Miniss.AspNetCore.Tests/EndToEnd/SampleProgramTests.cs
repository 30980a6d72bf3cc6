using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>The sample's program as a user runs it, in a child process: a signal stops it, and a start that cannot
/// happen says why in one line with the documented exit code.</summary>
[TestFixtureSource(typeof(EndToEndTransports), nameof(EndToEndTransports.Available))]
public sealed partial class SampleProgramTests(EndToEndTransport transport)
{
    private const int Sigterm = 15;
    private static readonly TimeSpan s_ceiling = TimeSpan.FromSeconds(60);

    [Test]
    public async Task Sigterm_stops_the_program_gracefully_with_exit_code_0()
    {
        using Process program = Start("--urls", "http://127.0.0.1:0");
        Task<string> errors = program.StandardError.ReadToEndAsync();
        using var ceiling = new CancellationTokenSource(s_ceiling);
        try
        {
            Uri url = await ReadUrlAsync(program, ceiling.Token);
            ToolRun curl = await ToolRun.RunAsync("curl", "-s", new Uri(url, "plaintext").ToString());
            Assert.That(curl.Output, Is.EqualTo("Hello, World!"), curl.ToString());

            Assert.That(Kill(program.Id, Sigterm), Is.Zero);
            await program.WaitForExitAsync(ceiling.Token);

            Assert.That(program.ExitCode, Is.Zero, await errors);
        }
        finally
        {
            Stop(program);
        }
    }

    [Test]
    public async Task A_taken_port_fails_in_one_line_with_exit_code_1()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        using Process program = Start("--urls", $"http://127.0.0.1:{port}");
        Task<string> output = program.StandardOutput.ReadToEndAsync();
        Task<string> errors = program.StandardError.ReadToEndAsync();
        using var ceiling = new CancellationTokenSource(s_ceiling);
        try
        {
            await program.WaitForExitAsync(ceiling.Token);
        }
        finally
        {
            Stop(program);
        }

        string[] lines = (await errors).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(program.ExitCode, Is.EqualTo(1), await output);
        Assert.That(lines, Has.Length.EqualTo(1), await errors);
        Assert.That(lines[0], Does.StartWith("miniss-aspnet: cannot start: ").And.Contain(port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(await output, Does.Not.Contain("   at "), "no stack trace");
    }

    private Process Start(params string[] arguments) => Start(transport, arguments);

    /// <summary>Starts the sample's program on <paramref name="transport"/> (<see langword="null"/>: no --transport).</summary>
    internal static Process Start(EndToEndTransport? transport, params string[] arguments)
    {
        string dll = Path.Combine(TestContext.CurrentContext.TestDirectory, "miniss-aspnet.dll");
        var start = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        if (transport is not null)
        {
            start.ArgumentList.Add("--transport");
            start.ArgumentList.Add(transport == EndToEndTransport.Sockets ? "sockets" : "miniss");
        }

        if (transport is EndToEndTransport.MinissIoUring or EndToEndTransport.MinissEpoll)
        {
            start.ArgumentList.Add("--backend");
            start.ArgumentList.Add(transport == EndToEndTransport.MinissIoUring ? "io_uring" : "epoll");
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        return Process.Start(start) ?? throw new InvalidOperationException("the sample did not start");
    }

    /// <summary>The HTTP URL from the program's start-up line ("miniss-aspnet on ...: http://127.0.0.1:PORT/ (HTTP/1.1)").</summary>
    private static async Task<Uri> ReadUrlAsync(Process program, CancellationToken cancellationToken)
    {
        while (await program.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
        {
            Match match = StartLine().Match(line);
            if (match.Success)
            {
                return new Uri(match.Groups[1].Value);
            }
        }

        throw new EndOfStreamException("the program ended before printing where it listens");
    }

    internal static void Stop(Process program)
    {
        if (!program.HasExited)
        {
            program.Kill(entireProcessTree: true);
            program.WaitForExit(10_000);
        }
    }

    [GeneratedRegex(@"^miniss-aspnet on \S+: (http://[^ ]+) \(HTTP/1\.1\)")]
    private static partial Regex StartLine();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
