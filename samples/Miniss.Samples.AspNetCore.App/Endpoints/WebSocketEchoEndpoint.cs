using System;
using System.Buffers;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace Miniss.Samples.AspNetCore.Endpoints;

/// <summary><c>/ws</c>: a WebSocket that sends every frame back as it came (text or binary, fragments kept), and
/// answers the client's close. A plain HTTP request gets 400.</summary>
internal static class WebSocketEchoEndpoint
{
    private const int BufferBytes = 16 * 1024;

    public static async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("/ws is a WebSocket echo: connect with a WebSocket client (Upgrade: websocket)\n", context.RequestAborted)
                .ConfigureAwait(false);
            return;
        }

        CancellationToken aborted = context.RequestAborted;
        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            while (true)
            {
                ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), aborted).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, socket.CloseStatusDescription, aborted)
                        .ConfigureAwait(false);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, aborted).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException || (e is OperationCanceledException && aborted.IsCancellationRequested))
        {
            // The client went away without a close handshake: nothing to answer.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
