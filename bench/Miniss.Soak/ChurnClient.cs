using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.Soak;

/// <summary>
/// Connections opened against one server at a bounded rate, each doing one <see cref="ChurnOperation"/>: whole
/// requests answered and checked, half-written requests, resets (SO_LINGER 0) before the answer and in the middle of
/// it. At most <see cref="MaxInFlight"/> connections at once; a connection due while that many are open is skipped
/// and counted. Every connection is bounded by <see cref="OperationTimeout"/>.
/// </summary>
internal sealed class ChurnClient(string kind, int port, int ratePerSecond) : IDisposable
{
    /// <summary>Connections open at once, at most.</summary>
    public const int MaxInFlight = 32;

    /// <summary>The longest one connection may take before it counts as unanswered.</summary>
    public static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(15);

    private const int Cycle = 10;
    private const int MidStreamHttpRequests = 256;
    private const int MidStreamEchoBytes = 64 * 1024;
    private const int MaxDrainBytes = 4 * 1024 * 1024;
    private static readonly byte[] s_request = "GET /soak HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();
    private static readonly byte[] s_closingRequest = "GET /soak HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"u8.ToArray();
    private static readonly int[] s_echoSizes = [64, 1500, 16 * 1024];

    private readonly IPEndPoint _target = new(IPAddress.Loopback, port);
    private readonly SemaphoreSlim _slots = new(MaxInFlight, MaxInFlight);
    private readonly long[] _byOperation = new long[Enum.GetValues<ChurnOperation>().Length];
    private readonly Dictionary<string, long> _reasons = [];
    private long _number;
    private long _succeeded;
    private long _failed;
    private long _skipped;

    /// <summary>What connection number <paramref name="number"/> does.</summary>
    public static ChurnOperation OperationOf(long number) => (number % Cycle) switch
    {
        6 => ChurnOperation.HalfWrittenClose,
        7 => ChurnOperation.ResetBeforeAnswer,
        8 => ChurnOperation.HalfWrittenReset,
        9 => ChurnOperation.ResetMidStream,
        _ => ChurnOperation.Complete,
    };

    /// <summary>The counters now. Any thread.</summary>
    public ChurnCounters Snapshot()
    {
        var byOperation = new long[_byOperation.Length];
        for (int i = 0; i < byOperation.Length; i++)
        {
            byOperation[i] = Interlocked.Read(ref _byOperation[i]);
        }

        List<KeyValuePair<string, long>> reasons;
        lock (_reasons)
        {
            reasons = [.. _reasons];
        }

        reasons.Sort(static (a, b) => b.Value.CompareTo(a.Value));
        return new ChurnCounters(Interlocked.Read(ref _succeeded), Interlocked.Read(ref _failed), Interlocked.Read(ref _skipped), byOperation, reasons);
    }

    /// <summary>Opens connections at the rate until <paramref name="stop"/> is cancelled, then waits for those open.</summary>
    /// <exception cref="SoakException">Connections still open long after their timeout (the client itself is stuck).</exception>
    public async Task RunAsync(CancellationToken stop)
    {
        long started = Stopwatch.GetTimestamp();
        long issued = 0;
        using (var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20)))
        {
            try
            {
                while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
                {
                    long due = (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * ratePerSecond);
                    for (; issued < due; issued++)
                    {
                        if (_slots.Wait(0, CancellationToken.None))
                        {
                            _ = RunOneAsync(Interlocked.Increment(ref _number));
                        }
                        else
                        {
                            Interlocked.Increment(ref _skipped);
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The load phase is over.
            }
        }

        TimeSpan drain = OperationTimeout + TimeSpan.FromSeconds(15);
        for (int i = 0; i < MaxInFlight; i++)
        {
            if (!await _slots.WaitAsync(drain, CancellationToken.None).ConfigureAwait(false))
            {
                throw new SoakException($"churn connections to the {kind} server still open {drain.TotalSeconds:0} s after the load stopped");
            }
        }

        _slots.Release(MaxInFlight);
    }

    /// <summary>Releases the in-flight limit's semaphore; call once <see cref="RunAsync"/> has returned.</summary>
    public void Dispose() => _slots.Dispose();

    /// <summary>One complete connection (connect, request, checked answer, close), bounded by <paramref name="timeout"/>.</summary>
    /// <returns><see langword="null"/> if the server answered as it should, else why not.</returns>
    public async Task<string?> ProbeAsync(TimeSpan timeout)
    {
        try
        {
            await OperateAsync(0, ChurnOperation.Complete, timeout).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            return Describe(e, timeout);
        }
    }

    private async Task RunOneAsync(long number)
    {
        ChurnOperation operation = OperationOf(number);
        try
        {
            await OperateAsync(number, operation, OperationTimeout).ConfigureAwait(false);
            Interlocked.Increment(ref _succeeded);
            Interlocked.Increment(ref _byOperation[(int)operation]);
        }
        catch (Exception e) when (IsConnectionFailure(e))
        {
            Interlocked.Increment(ref _failed);
            string reason = $"{operation}: {Describe(e, OperationTimeout)}";
            lock (_reasons)
            {
                _reasons[reason] = _reasons.GetValueOrDefault(reason) + 1;
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task OperateAsync(long number, ChurnOperation operation, TimeSpan timeout)
    {
        using var bounded = new CancellationTokenSource(timeout);
        CancellationToken token = bounded.Token;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(_target, token).ConfigureAwait(false);
        bool http = kind == "http";
        switch (operation)
        {
            case ChurnOperation.Complete when http:
                int requests = 1 + (int)(number / Cycle % 3);
                bool serverCloses = number / Cycle % 2 == 1;
                await SendAsync(socket, HttpRequests(requests, serverCloses), token).ConfigureAwait(false);
                await ReadHttpResponsesAsync(socket, requests, token).ConfigureAwait(false);
                if (serverCloses)
                {
                    await ExpectCloseAsync(socket, token).ConfigureAwait(false);
                }

                break;

            case ChurnOperation.Complete:
                byte[] payload = EchoPayload(number, s_echoSizes[number / Cycle % s_echoSizes.Length]);
                await SendAsync(socket, payload, token).ConfigureAwait(false);
                await ReadEchoAsync(socket, payload, token).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Send);
                await ExpectCloseAsync(socket, token).ConfigureAwait(false);
                break;

            case ChurnOperation.HalfWrittenClose:
                await SendAsync(socket, HalfRequest(number, http), token).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Send);
                await ExpectCloseAsync(socket, token).ConfigureAwait(false);
                break;

            case ChurnOperation.ResetBeforeAnswer:
                await SendAsync(socket, http ? s_request : EchoPayload(number, 64), token).ConfigureAwait(false);
                Reset(socket);
                break;

            case ChurnOperation.HalfWrittenReset:
                await SendAsync(socket, HalfRequest(number, http), token).ConfigureAwait(false);
                Reset(socket);
                break;

            case ChurnOperation.ResetMidStream:
                await SendAsync(socket, http ? HttpRequests(MidStreamHttpRequests, lastCloses: false) : EchoPayload(number, MidStreamEchoBytes), token).ConfigureAwait(false);
                if (await socket.ReceiveAsync(new byte[512], SocketFlags.None, token).ConfigureAwait(false) == 0)
                {
                    throw new InvalidDataException("the server closed before answering");
                }

                Reset(socket);
                break;
        }
    }

    private static async Task SendAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (!data.IsEmpty)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None, token).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    /// <summary>Closes with SO_LINGER 0: the kernel sends RST and drops whatever is unsent or unread.</summary>
    private static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    /// <summary>Reads until the server closes; anything it still sends is discarded (up to a bound).</summary>
    private static async Task ExpectCloseAsync(Socket socket, CancellationToken token)
    {
        byte[] scratch = new byte[4096];
        int total = 0;
        int received;
        while ((received = await socket.ReceiveAsync(scratch, SocketFlags.None, token).ConfigureAwait(false)) > 0)
        {
            total += received;
            if (total > MaxDrainBytes)
            {
                throw new InvalidDataException($"the server sent more than {MaxDrainBytes} bytes instead of closing");
            }
        }
    }

    private static async Task ReadEchoAsync(Socket socket, byte[] expected, CancellationToken token)
    {
        byte[] echoed = new byte[expected.Length];
        int filled = 0;
        while (filled < echoed.Length)
        {
            int received = await socket.ReceiveAsync(echoed.AsMemory(filled), SocketFlags.None, token).ConfigureAwait(false);
            if (received == 0)
            {
                throw new InvalidDataException($"the server closed after echoing {filled} of {expected.Length} bytes");
            }

            filled += received;
        }

        if (!echoed.AsSpan().SequenceEqual(expected))
        {
            throw new InvalidDataException("the echo differs from what was sent");
        }
    }

    /// <summary>Reads <paramref name="count"/> responses, each a 200 with a Content-Length body.</summary>
    private static async Task ReadHttpResponsesAsync(Socket socket, int count, CancellationToken token)
    {
        byte[] buffer = new byte[64 * 1024];
        int start = 0;
        int end = 0;
        for (int response = 0; response < count; response++)
        {
            int headEnd;
            while ((headEnd = buffer.AsSpan(start, end - start).IndexOf("\r\n\r\n"u8)) < 0)
            {
                end = await ReceiveMoreAsync(socket, buffer, end, response, token).ConfigureAwait(false);
            }

            string head = Encoding.ASCII.GetString(buffer, start, headEnd);
            if (!head.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal))
            {
                throw new InvalidDataException($"response {response + 1} is not a 200: '{head.Split("\r\n")[0]}'");
            }

            int length = ContentLength(head);
            start += headEnd + 4;
            while (end - start < length)
            {
                end = await ReceiveMoreAsync(socket, buffer, end, response, token).ConfigureAwait(false);
            }

            start += length;
        }
    }

    /// <summary>Appends what the socket has to <paramref name="buffer"/> after <paramref name="end"/>; returns the new end.
    /// The few responses of one connection fit the buffer whole, so it is never compacted.</summary>
    private static async Task<int> ReceiveMoreAsync(Socket socket, byte[] buffer, int end, int response, CancellationToken token)
    {
        if (end == buffer.Length)
        {
            throw new InvalidDataException($"the responses up to {response + 1} are larger than {buffer.Length} bytes");
        }

        int received = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, token).ConfigureAwait(false);
        if (received == 0)
        {
            throw new InvalidDataException($"the server closed before response {response + 1} was complete");
        }

        return end + received;
    }

    private static int ContentLength(string head)
    {
        foreach (string line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(line.AsSpan("Content-Length:".Length).Trim(), out int length) && length >= 0)
            {
                return length;
            }
        }

        throw new InvalidDataException("a response has no Content-Length");
    }

    private static byte[] HttpRequests(int count, bool lastCloses)
    {
        var requests = new byte[(count - 1) * s_request.Length + (lastCloses ? s_closingRequest : s_request).Length];
        for (int i = 0; i < count - 1; i++)
        {
            s_request.CopyTo(requests, i * s_request.Length);
        }

        (lastCloses ? s_closingRequest : s_request).CopyTo(requests, (count - 1) * s_request.Length);
        return requests;
    }

    private static byte[] HalfRequest(long number, bool http) =>
        http ? s_request[..(s_request.Length / 2)] : EchoPayload(number, 32);

    private static byte[] EchoPayload(long number, int size)
    {
        var payload = new byte[size];
        for (int i = 0; i < size; i++)
        {
            payload[i] = (byte)(number + i);
        }

        return payload;
    }

    private static bool IsConnectionFailure(Exception e) =>
        e is SocketException or OperationCanceledException or InvalidDataException or IOException or ObjectDisposedException;

    private static string Describe(Exception e, TimeSpan timeout) => e switch
    {
        OperationCanceledException => $"not done within {timeout.TotalSeconds:0} s",
        SocketException s => s.SocketErrorCode.ToString(),
        _ => e.Message,
    };
}
