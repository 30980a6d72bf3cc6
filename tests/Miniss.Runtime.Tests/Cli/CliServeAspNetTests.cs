using System;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Cli;

/// <summary><c>miniss serve aspnet</c>: the ASP.NET Core sample on Kestrel over Miniss answers real HTTP requests, SIGTERM
/// ends it with exit code 0, and a port another process holds ends in one line with exit code 1.</summary>
[TestFixture]
[Platform("Linux")]
[NonParallelizable]
public sealed partial class CliServeAspNetTests
{
    [Test]
    public void Serve_aspnet_answers_plaintext_and_json_and_SIGTERM_ends_it_with_exit_0()
    {
        using MinissProcess server = MinissProcess.Start(["serve", "aspnet", "--port", "0", "--shards", "2"]);
        server.WaitForOutput("; Ctrl-C stops it");
        Match match = AspNetServingLine().Match(server.StandardOutput);
        Assert.That(match.Success, Is.True, server.Transcript);
        Assert.That(server.StandardOutput, Does.Contain("2 shards"), server.Transcript);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        Assert.That(client.GetStringAsync(new Uri(match.Groups[1].Value + "plaintext")).GetAwaiter().GetResult(), Is.EqualTo("Hello, World!"));
        Assert.That(client.GetStringAsync(new Uri(match.Groups[1].Value + "json")).GetAwaiter().GetResult(), Is.EqualTo("""{"message":"Hello, World!"}"""));
        server.Terminate();

        Assert.That(server.WaitForExit(MinissProcess.Patience), Is.Zero, server.Transcript);
        Assert.That(server.StandardError, Does.Not.Contain("   at "));
    }

    [Test]
    public void Serve_aspnet_on_a_port_another_process_holds_exits_1_naming_the_port()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        int port = ((IPEndPoint)holder.LocalEndPoint!).Port;

        var run = MinissProcess.Run(["serve", "aspnet", "--port", $"{port}"]);

        Assert.That(run.Exit, Is.EqualTo(1), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain($"cannot listen on 127.0.0.1:{port}: port {port} is already in use").And.Contain("EADDRINUSE"));
    }

    /// <summary>1,000 bytes of a body of <paramref name="contentLength"/> bytes, then nothing: Kestrel's minimum data
    /// rate ends a 100 MB body after its grace period (408); its body size limit (1 GiB) refuses a 2 GB one at once (413).</summary>
    [TestCase(100_000_000L, "408")]
    [TestCase(2_000_000_000L, "413")]
    public void A_refused_body_gets_its_status_and_no_stack_trace_on_stderr(long contentLength, string status)
    {
        using MinissProcess server = MinissProcess.Start(["serve", "aspnet", "--port", "0"]);
        server.WaitForOutput("; Ctrl-C stops it");
        var url = new Uri(AspNetServingLine().Match(server.StandardOutput).Groups[1].Value);

        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 60_000 })
        {
            client.Connect(IPAddress.Loopback, url.Port);
            client.Send(System.Text.Encoding.ASCII.GetBytes($"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {contentLength}\r\n\r\n" + new string('x', 1000)));
            byte[] reply = new byte[64];
            int received = client.Receive(reply);
            Assert.That(System.Text.Encoding.ASCII.GetString(reply, 0, received), Does.StartWith($"HTTP/1.1 {status} "), server.Transcript);
        }

        server.Terminate();
        Assert.That(server.WaitForExit(MinissProcess.Patience), Is.Zero, server.Transcript);
        Assert.That(server.StandardError, Does.Not.Contain("   at ").And.Not.Contain("fail:"), server.Transcript);
    }

    [GeneratedRegex(@"aspnet server on (http://[^ ,]+/)")]
    private static partial Regex AspNetServingLine();
}
