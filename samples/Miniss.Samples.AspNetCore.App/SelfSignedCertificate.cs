using System;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Miniss.Samples.AspNetCore;

/// <summary>A throw-away TLS server certificate made in memory, for tests and for trying HTTPS without a real one.
/// Clients do not trust it: curl needs <c>-k</c>, and an <c>HttpClient</c> must accept it by thumbprint.</summary>
public static class SelfSignedCertificate
{
    /// <summary>Makes an ECDSA P-256 certificate for <c>localhost</c>, <c>127.0.0.1</c> and <c>::1</c>, valid from a day
    /// ago for <paramref name="validity"/>, with its private key; the caller disposes it. Nothing is written to disk.</summary>
    /// <param name="validity">How long it stays valid from now; a week when <see langword="null"/>.</param>
    public static X509Certificate2 Create(TimeSpan? validity = null)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 created = request.CreateSelfSigned(now.AddDays(-1), now + (validity ?? TimeSpan.FromDays(7)));

        // Through PKCS#12 and back, so the key is one SslStream can use on every platform (not an ephemeral handle).
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), password: null);
    }
}
