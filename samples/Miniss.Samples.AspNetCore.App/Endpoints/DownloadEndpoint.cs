using System;
using System.Globalization;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace Miniss.Samples.AspNetCore.Endpoints;

/// <summary><c>GET /download?size=N</c>: streams <c>N</c> bytes of <see cref="DeterministicBytes"/> with their
/// Content-Length, a chunk at a time, each flushed before the next is made (Kestrel's flow control holds the writer
/// back when the client reads slowly). <c>N</c> from 0 to <see cref="SampleOptions.MaxDownloadBytes"/>, else 400.</summary>
internal sealed class DownloadEndpoint(long maxDownloadBytes)
{
    private const int ChunkBytes = 64 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        HttpResponse response = context.Response;
        if (!long.TryParse(context.Request.Query["size"], NumberStyles.None, CultureInfo.InvariantCulture, out long size) || size > maxDownloadBytes)
        {
            response.StatusCode = StatusCodes.Status400BadRequest;
            response.ContentType = "text/plain";
            await response.WriteAsync($"size must be a whole number of bytes from 0 to {maxDownloadBytes} (--max-download-bytes), as in /download?size=1048576\n", context.RequestAborted)
                .ConfigureAwait(false);
            return;
        }

        CancellationToken aborted = context.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/octet-stream";
        response.ContentLength = size;
        PipeWriter writer = response.BodyWriter;
        long written = 0;
        while (written < size)
        {
            int chunk = (int)Math.Min(ChunkBytes, size - written);
            Span<byte> span = writer.GetSpan(chunk)[..chunk];
            DeterministicBytes.Fill(written, span);
            writer.Advance(chunk);
            written += chunk;
            FlushResult flushed = await writer.FlushAsync(aborted).ConfigureAwait(false);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
        }
    }
}
