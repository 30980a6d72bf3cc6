using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Net;

namespace Miniss.Samples.Http;

/// <summary>
/// The server's connection handler (public, so that tests drive this very code with curl and wrk): "Hello, World!"
/// to every request, with keep-alive and pipelining (the requests of one read answered in order, with one send).
/// </summary>
/// <remarks>
/// <para><b>Limits</b> (see <see cref="HelloServerOptions"/>): a request head (request line and headers) of at most
/// 16 KiB, else 414 or 431; the whole head within 10 s of its first byte, else 408; a request line of the form
/// <c>METHOD SP TARGET SP HTTP/1.x</c> and headers of the form <c>NAME: VALUE</c> without control bytes, else 400;
/// a <c>Transfer-Encoding</c>, 501. Each of these answers closes the connection. A body announced by
/// <c>Content-Length</c> is read and dropped.</para>
/// <para><b>Cost.</b> The head parser keeps its place between reads, so a head that trickles in or never ends costs
/// time in proportion to its bytes, and the connection holds at most
/// <see cref="ConnectionPipeOptions.MaxBufferedInput"/> (twice the head limit by default) of input.</para>
/// <para><b>Closing after a refusal.</b> The answer is sent, the connection half-closed, and what the client still
/// sends is read and dropped (at most 64 KiB, for at most 1 s), so that the client can read the answer before the
/// close; a client still sending after that is reset (<c>SO_LINGER</c> 0), so that its sends fail at once.</para>
/// </remarks>
public static class HelloServer
{
    private const int DrainLimit = 64 * 1024;
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The whole response to every request.</summary>
    public static ReadOnlyMemory<byte> Response { get; } =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nServer: Miniss\r\n\r\nHello, World!"u8.ToArray();

    /// <summary>Serves one connection with <see cref="HelloServerOptions.Default"/> until the client closes it or
    /// asks to; runs on the connection's shard, where the pipe's awaits resume.</summary>
    /// <exception cref="SocketException">The connection failed (a reset).</exception>
    public static ValueTask HandleAsync(ShardConnection connection) => HandleAsync(connection, HelloServerOptions.Default);

    /// <summary>A connection handler with <paramref name="options"/>' limits, for a <see cref="ShardServer"/>:
    /// the options are checked now, not at the first connection.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="options"/> cannot work (the message says why).</exception>
    public static Func<ShardConnection, ValueTask> Handler(HelloServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return connection => HandleAsync(connection, options);
    }

    /// <summary>Serves one connection with <paramref name="options"/>' limits until the client closes it or asks to, or
    /// a limit closes it; runs on the connection's shard, where the pipe's awaits resume.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="options"/> cannot work (the message says why).</exception>
    /// <exception cref="SocketException">The connection failed (a reset).</exception>
    public static async ValueTask HandleAsync(ShardConnection connection, HelloServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        await using ConnectionPipe pipe = connection.AsPipe(options.EffectivePipe);
        var parser = new RequestHeadParser(options.MaxRequestHeadSize);
        var deadline = new HeadDeadline(options.HeaderTimeout);
        try
        {
            long bodyLeft = 0;
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await pipe.Input.ReadAsync(deadline.Token);
                }
                catch (OperationCanceledException) when (deadline.Expired)
                {
                    await RefuseAsync(pipe, 408, "Request Timeout", $"the request head did not arrive within {options.HeaderTimeout.TotalSeconds:0.###} s of its first byte", deadline);
                    return;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                HeadStatus status = HeadStatus.Incomplete;
                bool keepAlive = true;
                while (keepAlive)
                {
                    if (bodyLeft > 0)
                    {
                        long skipped = Math.Min(bodyLeft, buffer.Length);
                        buffer = buffer.Slice(skipped);
                        bodyLeft -= skipped;
                        if (bodyLeft > 0)
                        {
                            break;
                        }
                    }

                    if (buffer.IsEmpty)
                    {
                        break;
                    }

                    status = parser.Parse(buffer);
                    if (status != HeadStatus.Complete)
                    {
                        break;
                    }

                    pipe.Output.Write(Response.Span);
                    buffer = buffer.Slice(parser.HeadLength);
                    bodyLeft = parser.ContentLength;
                    keepAlive = parser.KeepAlive;
                    parser.Reset();
                    deadline.Stop();
                }

                pipe.Input.AdvanceTo(buffer.Start, buffer.End);
                if (status is not (HeadStatus.Incomplete or HeadStatus.Complete))
                {
                    await RefuseAsync(pipe, status, options.MaxRequestHeadSize, deadline);
                    return;
                }

                if (status == HeadStatus.Incomplete && bodyLeft == 0 && !buffer.IsEmpty)
                {
                    // Part of a head is here: the rest must follow within the header timeout.
                    deadline.Start();
                }

                await pipe.Output.FlushAsync();
                if (!keepAlive || result.IsCompleted)
                {
                    return;
                }
            }
        }
        finally
        {
            deadline.Dispose();
        }
    }

    private static ValueTask RefuseAsync(ConnectionPipe pipe, HeadStatus status, int maxHeadSize, HeadDeadline deadline) => status switch
    {
        HeadStatus.UriTooLong => RefuseAsync(pipe, 414, "URI Too Long", $"the request line is longer than the server's limit of {maxHeadSize} bytes on a request head", deadline),
        HeadStatus.HeaderFieldsTooLarge => RefuseAsync(pipe, 431, "Request Header Fields Too Large", $"the request line and headers are longer than the server's limit of {maxHeadSize} bytes", deadline),
        HeadStatus.NotImplemented => RefuseAsync(pipe, 501, "Not Implemented", "this server reads no Transfer-Encoding: send a body with Content-Length", deadline),
        _ => RefuseAsync(pipe, 400, "Bad Request", "a request line is METHOD SP TARGET SP HTTP/1.x and a header NAME: VALUE, without control bytes, each ending in CR LF", deadline),
    };

    /// <summary>Answers with an error and closes: the answer, a half-close, then what the client still sends is dropped
    /// (bounded) so that the close does not reset the connection under the answer.</summary>
    private static async ValueTask RefuseAsync(ConnectionPipe pipe, int code, string reason, string why, HeadDeadline deadline)
    {
        string body = $"{code} {reason}: {why}.\n";
        string head = $"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\nServer: Miniss\r\n\r\n";
        pipe.Output.Write(Encoding.ASCII.GetBytes(head + body));
        await pipe.Output.CompleteAsync();

        deadline.StartDrain(DrainTimeout);
        long dropped = 0;
        try
        {
            while (dropped < DrainLimit)
            {
                ReadResult result = await pipe.Input.ReadAsync(deadline.Token);
                dropped += result.Buffer.Length;
                pipe.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
        {
            // The client did not finish in time, or reset the connection.
        }

        // The client is still sending: the close resets the connection, so that its sends fail at once instead of
        // waiting on a receive window that will not open again.
        try
        {
            pipe.Connection.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already reset by the client.
        }
    }

    /// <summary>The header timeout of one connection: a cancellation armed when a head's first bytes arrive without the
    /// rest, disarmed when the head is complete, and reused for the next head (one allocation per connection that
    /// ever waits for a head, none per request).</summary>
    private sealed class HeadDeadline(TimeSpan timeout) : IDisposable
    {
        private CancellationTokenSource? _source;
        private bool _armed;

        public CancellationToken Token => _armed ? _source!.Token : CancellationToken.None;

        public bool Expired => _armed && _source!.IsCancellationRequested;

        public void Start()
        {
            if (!_armed && timeout != Timeout.InfiniteTimeSpan)
            {
                Arm(timeout);
            }
        }

        public void StartDrain(TimeSpan drain)
        {
            Stop();
            Arm(drain);
        }

        public void Stop()
        {
            if (_armed)
            {
                _armed = false;
                if (!_source!.TryReset())
                {
                    // It fired as the head completed: a fired source cannot be reused.
                    _source.Dispose();
                    _source = null;
                }
            }
        }

        public void Dispose() => _source?.Dispose();

        private void Arm(TimeSpan after)
        {
            _source ??= new CancellationTokenSource();
            _source.CancelAfter(after);
            _armed = true;
        }
    }
}
