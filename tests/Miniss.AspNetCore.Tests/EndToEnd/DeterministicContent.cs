using System;
using System.Buffers;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Samples.AspNetCore;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>A request body of <see cref="DeterministicBytes"/>, made as it is sent, hashing what it sends.</summary>
internal sealed class DeterministicContent(long length) : HttpContent
{
    private const int ChunkBytes = 64 * 1024;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>The SHA-256 of what was sent, once the request is done (lowercase hexadecimal).</summary>
    public string SentSha256() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (long sent = 0; sent < length;)
            {
                int count = (int)Math.Min(ChunkBytes, length - sent);
                DeterministicBytes.Fill(sent, chunk.AsSpan(0, count));
                _hash.AppendData(chunk, 0, count);
                await stream.WriteAsync(chunk.AsMemory(0, count), cancellationToken);
                sent += count;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    protected override bool TryComputeLength(out long length1)
    {
        length1 = length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
