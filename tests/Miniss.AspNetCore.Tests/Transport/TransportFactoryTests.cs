using System;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Miniss.AspNetCore.Internal;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.AspNetCore.Tests.Transport;

/// <summary>Which endpoints the transport takes, and how it refuses the others.</summary>
[CancelAfter(60_000)]
public sealed class TransportFactoryTests
{
    [Test]
    public async Task The_transport_binds_IP_and_Unix_socket_endpoints_and_leaves_file_handles_to_others()
    {
        await using MinissRuntime runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 1, Backend = IoBackendKind.Epoll, PinThreads = false });
        using var factory = new MinissTransportFactory(runtime, Options.Create(new MinissTransportOptions()));
        Assert.That(factory.CanBind(new IPEndPoint(IPAddress.Loopback, 0)), Is.True);
        Assert.That(factory.CanBind(new UnixDomainSocketEndPoint("/nonexistent/miniss.sock")), Is.True);
        Assert.That(factory.CanBind(new FileHandleEndPoint(3, FileHandleType.Tcp)), Is.False);

        var refused = Assert.ThrowsAsync<NotSupportedException>(async () => await factory.BindAsync(new FileHandleEndPoint(3, FileHandleType.Tcp)));
        Assert.That(refused!.Message, Does.Contain("FileHandleEndPoint").And.Contain("another transport"));
    }
}
