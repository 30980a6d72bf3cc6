using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>How <see cref="ShardServer.StopAcceptingAsync"/> ends accepting while the connections served go on.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class StopAcceptingTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(60_000)]
    public async Task Stopping_accepting_refuses_new_clients_and_leaves_served_connections_open(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start(detectStalls: false);
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, Echo).Within(token);
        using Socket served = await ConnectDotNetAsync(server.LocalEndPoint, token);
        await served.SendAsync(new byte[] { 1 }, SocketFlags.None, token);
        Assert.That(await served.ReceiveAsync(new byte[1], SocketFlags.None, token), Is.EqualTo(1));

        await server.StopAcceptingAsync().Within(token);

        // The kernel refuses new clients: nothing listens on the port any more.
        var refused = Assert.CatchAsync<SocketException>(async () =>
        {
            using Socket late = await ConnectDotNetAsync(server.LocalEndPoint, token);
        });
        Assert.That(refused!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused));

        // The connection served before goes on being served.
        await served.SendAsync(new byte[] { 2 }, SocketFlags.None, token);
        var echoed = new byte[1];
        Assert.That(await served.ReceiveAsync(echoed, SocketFlags.None, token), Is.EqualTo(1));
        Assert.That(echoed[0], Is.EqualTo(2));
        Assert.That(server.ActiveConnections, Is.EqualTo(1));

        // Stopping closes it.
        await server.StopAsync().Within(token);
        Assert.That(await served.ReceiveAsync(echoed, SocketFlags.None, token), Is.Zero);
        Assert.That(server.ActiveConnections, Is.Zero);
    }
}
