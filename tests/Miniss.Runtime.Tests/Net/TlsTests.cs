using Miniss.IO;
using System;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.Net;

/// <summary>.NET's <see cref="SslStream"/> runs over the Stream adapter on a shard: TLS without any Miniss-specific
/// code.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class TlsTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(30_000)]
    public async Task SslStream_over_a_Miniss_connection_serves_a_plain_dotnet_TLS_client(CancellationToken token)
    {
        using X509Certificate2 certificate = CreateSelfSignedCertificate();
        byte[] payload = RandomBytes(1 << 20, seed: 11);
        int handshakeShard = -1;
        await using var scope = RuntimeScope.Start(detectStalls: false);
        scope.Runtime.UnhandledException += (_, e) => TestContext.Out.WriteLine($"handler failed: {e.Exception}");
        await using ShardServer server = await ShardServer.StartAsync(scope.Runtime, AnyLoopbackPort, async connection =>
        {
            await using var tls = new SslStream(connection.AsStream());
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate });
            handshakeShard = Shard.Current!.Id;
            Assert.That(handshakeShard, Is.EqualTo(connection.Shard.Id), "SslStream's awaits stay on the connection's shard");
            await tls.CopyToAsync(tls);
            await tls.ShutdownAsync();
        }).Within(token);

        using Socket socket = await ConnectDotNetAsync(server.LocalEndPoint, token);
        await using var client = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        await client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString(),
        }, token);
        Assert.That(client.IsAuthenticated, Is.True);
        Assert.That(client.SslProtocol, Is.AnyOf(SslProtocols.Tls12, SslProtocols.Tls13));

        Task sending = Task.Run(async () =>
        {
            await client.WriteAsync(payload, token);
            await client.FlushAsync(token);
        }, token);
        byte[] echoed = new byte[payload.Length];
        await client.ReadExactlyAsync(echoed, token);
        await sending;

        AssertSameBytes(echoed, payload);
        Assert.That(handshakeShard, Is.InRange(0, 1));
    }

    private static X509Certificate2 CreateSelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(1));
    }
}
