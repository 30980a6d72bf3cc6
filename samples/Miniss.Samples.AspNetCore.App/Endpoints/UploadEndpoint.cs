using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Miniss.Samples.AspNetCore.Endpoints;

/// <summary><c>POST /upload</c>: reads the request body as it arrives (never holding more than the pipe's buffers),
/// and answers its length and SHA-256 as JSON. Bodies above <see cref="SampleOptions.MaxUploadBytes"/> are refused
/// with 413 by Kestrel's body size limit.</summary>
internal sealed class UploadEndpoint(long maxUploadBytes)
{
    public async Task HandleAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxUploadBytes;
        }

        CancellationToken aborted = context.RequestAborted;
        PipeReader body = context.Request.BodyReader;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await body.ReadAsync(aborted).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e)
            {
                // The client's fault (a body over the limit: 413; one that stopped arriving: 408): answered with the
                // status and the connection closed, as Kestrel does when the exception escapes, but not logged as the
                // application's failure with its stack.
                if (!context.Response.HasStarted)
                {
                    context.Response.StatusCode = e.StatusCode;
                    context.Response.Headers.Connection = "close";
                }

                return;
            }
            catch (Exception e) when (e is not BadHttpRequestException && (aborted.IsCancellationRequested || e is System.IO.IOException))
            {
                // The client went away mid-body: nobody is left to answer.
                return;
            }

            ReadOnlySequence<byte> buffer = read.Buffer;
            foreach (ReadOnlyMemory<byte> segment in buffer)
            {
                hash.AppendData(segment.Span);
            }

            total += buffer.Length;
            body.AdvanceTo(buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        await context.Response.WriteAsJsonAsync(new UploadResult(total, Convert.ToHexStringLower(hash.GetHashAndReset())), SampleJsonContext.Default.UploadResult, contentType: null, aborted)
            .ConfigureAwait(false);
    }
}
