using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NUnit.Framework;

namespace Miniss.Hosting.Tests;

/// <summary><c>AddShardServer</c>: a server the host starts on its runtime and stops before the runtime.</summary>
public sealed class AddShardServerTests
{
    private static readonly IPEndPoint s_anyLoopbackPort = new(IPAddress.Loopback, 0);

    [Test]
    [CancelAfter(60_000)]
    public async Task A_hosted_server_serves_on_the_port_the_kernel_chose(CancellationToken token)
    {
        HostApplicationBuilder builder = OptionsBindingTests.Builder(new() { ["Miniss:ShardCount"] = "2" });
        builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"));
        builder.Services.AddShardServer(s_anyLoopbackPort, Echo.HandleAsync);
        using IHost host = builder.Build();
        await host.StartAsync(token);

        HostedShardServer server = host.Services.GetRequiredService<HostedShardServer>();
        var bound = (IPEndPoint)server.LocalEndPoint;
        Assert.That(bound.Port, Is.Positive);
        await Task.Run(() => Echo.RoundTrip(bound), token);
        Assert.That(server.Server.AcceptedConnections, Is.EqualTo(1));
        await host.StopAsync(token);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Named_servers_listen_side_by_side(CancellationToken token)
    {
        HostApplicationBuilder builder = OptionsBindingTests.Builder([]);
        builder.Services.AddMiniss(options => options.ShardCount = 1);
        builder.Services.AddShardServer("first", s_anyLoopbackPort, Echo.HandleAsync);
        builder.Services.AddShardServer("second", s_anyLoopbackPort, Echo.HandleAsync);
        using IHost host = builder.Build();
        await host.StartAsync(token);

        HostedShardServer first = host.Services.GetRequiredKeyedService<HostedShardServer>("first");
        HostedShardServer second = host.Services.GetRequiredKeyedService<HostedShardServer>("second");
        Assert.That(first.LocalEndPoint, Is.Not.EqualTo(second.LocalEndPoint));
        await Task.Run(() => Echo.RoundTrip(first.LocalEndPoint), token);
        await Task.Run(() => Echo.RoundTrip(second.LocalEndPoint), token);
        await host.StopAsync(token);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task The_host_stops_the_server_before_the_runtime(CancellationToken token)
    {
        var handlerEnded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        MinissRuntime? runtime = null;
        HostApplicationBuilder builder = OptionsBindingTests.Builder([]);
        builder.Services.AddMiniss(options => options.ShardCount = 1);
        builder.Services.AddShardServer(s_anyLoopbackPort, async connection =>
        {
            try
            {
                await Echo.HandleAsync(connection);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The server closed the connection under the handler.
            }
            finally
            {
                handlerEnded.TrySetResult(runtime!.IsStopping);
            }
        });
        using IHost host = builder.Build();
        await host.StartAsync(token);
        runtime = host.Services.GetRequiredService<MinissRuntime>();
        using Socket client = Echo.Connect(host.Services.GetRequiredService<HostedShardServer>().LocalEndPoint);
        await Task.Run(() => client.Send([1]), token);
        await Task.Run(() => client.Receive(new byte[1]), token);

        await host.StopAsync(token);

        Assert.That(await handlerEnded.Task.WaitAsync(token), Is.False, "the runtime was stopping when the server closed its connection");
        Assert.That(runtime.IsStopping, Is.True);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_port_already_taken_fails_start_with_the_socket_error(CancellationToken token)
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(s_anyLoopbackPort);
        holder.Listen();
        HostApplicationBuilder builder = OptionsBindingTests.Builder([]);
        builder.Services.AddShardServer(holder.LocalEndPoint!, Echo.HandleAsync);
        using IHost host = builder.Build();

        SocketException error = Assert.ThrowsAsync<SocketException>(async () => await host.StartAsync(token))!;

        Assert.That(error.SocketErrorCode, Is.EqualTo(SocketError.AddressAlreadyInUse));
        await host.StopAsync(token);
    }

    [Test]
    public void A_second_server_without_a_name_is_refused()
    {
        var services = new ServiceCollection();
        services.AddShardServer(s_anyLoopbackPort, Echo.HandleAsync);

        Assert.That(() => services.AddShardServer(s_anyLoopbackPort, Echo.HandleAsync),
            Throws.InvalidOperationException.With.Message.Contains("give each server a name"));
    }
}
