using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Cli;

/// <summary>
/// <c>miniss serve</c>: where it listens (<c>--address</c>, loopback by default), a port it cannot have ends in one line
/// and exit code 1, sharing a port with another process only when both ask (<c>--reuse-port</c>), SIGTERM ends it with 0.
/// </summary>
[TestFixture]
[Platform("Linux")]
[NonParallelizable]
public sealed partial class CliServeTests
{
    private const int RuntimeFailure = 1;

    [Test]
    public void Serve_on_a_port_another_process_holds_exits_1_naming_the_port()
    {
        // A plain listener, as another server would hold it: no SO_REUSEPORT.
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        int port = ((IPEndPoint)holder.LocalEndPoint!).Port;

        var run = MinissProcess.Run(["serve", "echo", "--port", $"{port}"]);

        Assert.That(run.Exit, Is.EqualTo(RuntimeFailure), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain($"cannot listen on 127.0.0.1:{port}: port {port} is already in use").And.Contain("EADDRINUSE"));
    }

    [Test]
    public void Serve_on_a_privileged_port_as_non_root_exits_1_naming_EACCES()
    {
        var run = MinissProcess.Run(["serve", "echo", "--port", "80"], Wrappers.Nobody);

        Assert.That(run.Exit, Is.EqualTo(RuntimeFailure), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain("cannot listen on 127.0.0.1:80: permission denied (EACCES)").And.Contain("--port 1024 or above"));
    }

    [Test]
    public void Serve_listens_on_loopback_by_default_and_SIGTERM_ends_it_with_exit_0()
    {
        using MinissProcess server = MinissProcess.Start(["serve", "echo", "--port", "0"]);
        IPEndPoint endPoint = ServingAt(server);

        Assert.That(endPoint.Address, Is.EqualTo(IPAddress.Loopback), server.Transcript);
        Echo(endPoint);
        server.Terminate();

        Assert.That(server.WaitForExit(MinissProcess.Patience), Is.Zero, server.Transcript);
        Assert.That(server.StandardError, Does.Not.Contain("   at "));
    }

    [Test]
    public void Serve_listens_on_the_IPv6_address_given()
    {
        using MinissProcess server = MinissProcess.Start(["serve", "echo", "--address", "::1", "--port", "0"]);
        IPEndPoint endPoint = ServingAt(server);

        Assert.That(endPoint.Address, Is.EqualTo(IPAddress.IPv6Loopback), server.Transcript);
        Echo(endPoint);
        server.Terminate();
        Assert.That(server.WaitForExit(MinissProcess.Patience), Is.Zero, server.Transcript);
    }

    [Test]
    public void The_runtime_log_reaches_stderr_with_the_backend_chosen()
    {
        using MinissProcess server = MinissProcess.Start(["serve", "echo", "--port", "0"]);
        ServingAt(server);
        server.Terminate();

        Assert.That(server.WaitForExit(MinissProcess.Patience), Is.Zero, server.Transcript);
        Assert.That(server.StandardError, Does.Contain("Miniss I/O backend: "), server.Transcript);
        Assert.That(server.StandardOutput, Does.Not.Contain("Miniss I/O backend: "), "the log goes to stderr, not stdout");
    }

    [Test]
    public void Quiet_keeps_information_off_stderr()
    {
        using MinissProcess server = MinissProcess.Start(["serve", "echo", "--port", "0", "--quiet"]);
        ServingAt(server);
        server.Terminate();

        Assert.That(server.WaitForExit(MinissProcess.Patience), Is.Zero, server.Transcript);
        Assert.That(server.StandardError, Does.Not.Contain("Miniss I/O backend: "), server.Transcript);
    }

    [Test]
    public void Serve_reads_the_runtime_options_from_Miniss_environment_variables()
    {
        using MinissProcess server = MinissProcess.Start(["serve", "echo", "--port", "0"], environment: new Dictionary<string, string> { ["Miniss__Backend"] = "epoll" });
        ServingAt(server);
        server.Terminate();

        Assert.That(server.WaitForExit(MinissProcess.Patience), Is.Zero, server.Transcript);
        Assert.That(server.StandardOutput, Does.Contain("backend epoll"), server.Transcript);
    }

    [Test]
    public void Serve_with_an_invalid_Miniss_environment_variable_exits_1_naming_the_key()
    {
        var run = MinissProcess.Run(["serve", "echo", "--port", "0"], environment: new Dictionary<string, string> { ["Miniss__ShardCount"] = "0" });

        Assert.That(run.Exit, Is.EqualTo(RuntimeFailure), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain("miniss: Miniss:ShardCount is 0: at least 1 shard is needed"));
    }

    /// <summary>Needs ShardServer to refuse a port another process listens on unless
    /// <c>ListenerOptions.ShareAcrossProcesses</c> is set (the runtime's half of the port-sharing change).</summary>
    [Test]
    public void A_second_server_on_a_port_another_miniss_serves_exits_1_naming_the_port()
    {
        using MinissProcess first = MinissProcess.Start(["serve", "echo", "--port", "0"]);
        int port = ServingAt(first).Port;

        using MinissProcess second = MinissProcess.Start(["serve", "echo", "--port", $"{port}"]);

        Assert.That(second.ExitsBeforePrinting("; Ctrl-C stops it"), Is.True, $"the second server started on a port another process serves\n{second.Transcript}");
        Assert.That(second.WaitForExit(MinissProcess.Patience), Is.EqualTo(RuntimeFailure), second.Transcript);
        MinissProcess.AssertOneLineFailure(second.StandardError, second.Transcript);
        Assert.That(second.StandardError, Does.Contain($"port {port} is already in use"));
        first.Terminate();
        Assert.That(first.WaitForExit(MinissProcess.Patience), Is.Zero, first.Transcript);
    }

    [Test]
    public void With_reuse_port_on_both_a_second_server_shares_the_port()
    {
        using MinissProcess first = MinissProcess.Start(["serve", "echo", "--port", "0", "--reuse-port"]);
        int port = ServingAt(first).Port;
        using MinissProcess second = MinissProcess.Start(["serve", "echo", "--port", $"{port}", "--reuse-port"]);

        Assert.That(ServingAt(second).Port, Is.EqualTo(port), second.Transcript);
        Echo(new IPEndPoint(IPAddress.Loopback, port));
        second.Terminate();
        first.Terminate();
        Assert.That(second.WaitForExit(MinissProcess.Patience), Is.Zero, second.Transcript);
        Assert.That(first.WaitForExit(MinissProcess.Patience), Is.Zero, first.Transcript);
    }

    /// <summary>Waits for the server's first line and reads the endpoint it names.</summary>
    private static IPEndPoint ServingAt(MinissProcess server)
    {
        server.WaitForOutput("; Ctrl-C stops it");
        Match match = ServingLine().Match(server.StandardOutput);
        Assert.That(match.Success, Is.True, server.Transcript);
        return IPEndPoint.Parse(match.Groups[1].Value);
    }

    /// <summary>One round trip through the echo server, bounded.</summary>
    private static void Echo(IPEndPoint endPoint)
    {
        using var client = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000, SendTimeout = 30_000 };
        client.Connect(endPoint);
        byte[] message = Encoding.ASCII.GetBytes("ping");
        client.Send(message);
        byte[] reply = new byte[message.Length];
        int received = 0;
        while (received < reply.Length)
        {
            int n = client.Receive(reply, received, reply.Length - received, SocketFlags.None);
            Assert.That(n, Is.Positive, "the server closed the connection");
            received += n;
        }

        Assert.That(reply, Is.EqualTo(message));
    }

    [GeneratedRegex(@"server on (\S+), \d+ shards")]
    private static partial Regex ServingLine();
}
