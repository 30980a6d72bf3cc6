using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Threading.Tasks;
using Miniss.Samples.AspNetCore;
using NUnit.Framework;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>Large bodies streamed both ways over HTTP/1.1, checked byte for byte.</summary>
[TestFixtureSource(typeof(EndToEndTransports), nameof(EndToEndTransports.Available))]
public sealed class TransferTests(EndToEndTransport transport) : EndToEndFixture(transport)
{
    private const long Size = 256L << 20;

    [Test]
    public async Task Upload_of_256_MiB_is_counted_and_hashed_as_sent()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var content = new DeterministicContent(Size);

        using HttpResponseMessage response = await client.PostAsync(new Uri(Server.Http, "upload"), content);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        UploadResult? result = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), SampleJsonContext.Default.UploadResult);
        Assert.That(result, Is.Not.Null);
        Assert.That(result!.Bytes, Is.EqualTo(Size));
        Assert.That(result.Sha256, Is.EqualTo(content.SentSha256()));
    }

    [Test]
    public async Task Download_of_256_MiB_matches_the_deterministic_content_byte_for_byte()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        using HttpResponseMessage response = await client.GetAsync(new Uri(Server.Http, $"download?size={Size}"), HttpCompletionOption.ResponseHeadersRead);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(Size));
        await using Stream body = await response.Content.ReadAsStreamAsync();
        byte[] received = new byte[64 * 1024];
        byte[] expected = new byte[received.Length];
        long offset = 0;
        int count;
        while ((count = await body.ReadAsync(received)) > 0)
        {
            DeterministicBytes.Fill(offset, expected.AsSpan(0, count));
            if (!received.AsSpan(0, count).SequenceEqual(expected.AsSpan(0, count)))
            {
                int at = received.AsSpan(0, count).CommonPrefixLength(expected.AsSpan(0, count));
                Assert.Fail($"byte {offset + at} differs: received {received[at]}, expected {expected[at]}");
            }

            offset += count;
        }

        Assert.That(offset, Is.EqualTo(Size));
    }

    [Test]
    public async Task Upload_above_the_limit_is_refused_with_413()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var content = new DeterministicContent(new SampleOptions().MaxUploadBytes + 1);

        HttpResponseMessage? response = null;
        try
        {
            response = await client.PostAsync(new Uri(Server.Http, "upload"), content);
        }
        catch (HttpRequestException)
        {
            // Kestrel may answer 413 and close before the client has sent its whole body: the send then fails. Either
            // way the server refused the body; the next request shows it still serves.
        }

        using (response)
        {
            if (response is not null)
            {
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
            }
        }

        Assert.That(await client.GetStringAsync(new Uri(Server.Http, "plaintext")), Is.EqualTo("Hello, World!"));
    }
}
