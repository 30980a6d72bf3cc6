using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Miniss.Bindings.Linux;
using Miniss.IO;

namespace Miniss.Net.Internal;

/// <summary>
/// One shard's part of a <see cref="ShardServer"/>: its listener and accept loop (when it accepts), and the
/// connections it serves. Every member runs on that shard, so none of this state needs a lock, except
/// <see cref="WakeForRoom"/>, which any shard calls when a connection ends.
/// </summary>
internal sealed class ServerShard(ShardServer server, Shard shard) : IDisposable
{
    private static readonly Action<object?> s_roomFreed = static state => ((ServerShard)state!).OnRoomFreed();

    private readonly HashSet<ShardConnection> _live = [];
    private readonly CancellationTokenSource _stop = new();
    private ShardListener? _listener;
    private Task? _acceptLoop;
    private TaskCompletionSource? _drained;
    private TaskCompletionSource? _room;
    private bool _stopping;

    // Set by StopAcceptingAsync: the accept loop ends, the connections go on being served.
    private bool _acceptStopped;
    private bool _sweeping;
    private int _running;
    private long _connectionIds;

    // 1 while the accept loop waits for a connection to end (a connection limit); read by the shards that end them.
    private int _waitingForRoom;

    public Shard Shard => shard;

    /// <summary>Binds this shard's listener and starts accepting; returns the bound address.</summary>
    public EndPoint Listen(EndPoint endPoint, ListenerOptions options)
    {
        ObjectDisposedException.ThrowIf(_stopping, server);
        _listener = ShardListener.Bind(endPoint, options);
        _acceptLoop = AcceptLoopAsync(_listener);
        return _listener.LocalEndPoint;
    }

    /// <summary>Serves an accepted connection on this shard: runs the handler, then disposes the connection. Never
    /// throws (a hand-off relies on it).</summary>
    public void Serve(ShardListener listener, FileDescriptorHandle accepted, EndPoint? peer)
    {
        if (_stopping)
        {
            accepted.Dispose();
            server.OnConnectionEnded(shard.Id);
            return;
        }

        ShardConnection connection = listener.Adopt(shard, accepted, peer);
        long id = ++_connectionIds;
        if (shard.Runtime.Logs.Net.IsEnabled(LogLevel.Debug) || Diagnostics.MinissTracing.Source.HasListeners())
        {
            // The scope and the activity are set in a clean context, which the handler's awaits carry and which is
            // left behind when this returns: nothing of them stays on the shard thread.
            ExecutionContext.Run(Diagnostics.MinissTracing.Clean!, s_runObserved, new Observed(this, connection, id, listener.LocalEndPoint));
        }
        else
        {
            _ = RunAsync(connection, id, observed: false);
        }
    }

    private static readonly ContextCallback s_runObserved = static state =>
    {
        var observed = (Observed)state!;
        observed.Server.RunObserved(observed);
    };

    private void RunObserved(Observed observed)
    {
        ILogger log = shard.Runtime.Logs.Net;
        _ = NetLog.ConnectionScope(log, observed.Id, shard.Id);
        string peer = observed.Connection.RemoteEndPoint?.ToString() ?? "?";
        System.Diagnostics.Activity? activity = Diagnostics.MinissTracing.Source.StartActivity(Diagnostics.MinissTracing.ConnectionActivityName, System.Diagnostics.ActivityKind.Server);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("miniss.shard", shard.Id);
            activity.SetTag("miniss.connection.id", observed.Id);
            activity.SetTag("network.peer.address", peer);
            activity.SetTag("server.address", observed.LocalEndPoint.ToString());
        }

        NetLog.ConnectionAccepted(log, shard.Id, observed.Id, peer, observed.LocalEndPoint.ToString() ?? "?");
        _ = RunAsync(observed.Connection, observed.Id, observed: true, activity);
    }

    /// <summary>A connection served with logging at Debug or tracing on.</summary>
    private sealed record Observed(ServerShard Server, ShardConnection Connection, long Id, EndPoint LocalEndPoint);

    /// <summary>Stops accepting, closes the connections still open and waits for their handlers.</summary>
    public async ValueTask StopAsync()
    {
        _stopping = true;
        _stop.Cancel();
        _room?.TrySetResult();
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(true);
        }

        foreach (ShardConnection connection in _live)
        {
            connection.Dispose();
        }

        if (_running > 0)
        {
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await _drained.Task.ConfigureAwait(true);
        }

        Dispose();
    }

    /// <summary>Stops accepting (closes the listener and waits for the accept loop to end); the connections served
    /// go on.</summary>
    public async ValueTask StopAcceptingAsync()
    {
        _acceptStopped = true;
        _room?.TrySetResult();
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(true);
        }
    }

    /// <summary>Frees what <see cref="StopAsync"/> leaves (the token that ended the pauses). Idempotent.</summary>
    public void Dispose() => _stop.Dispose();

    /// <summary>A connection ended somewhere: if this shard's accept loop waits for room, it looks again. Any thread.</summary>
    public void WakeForRoom()
    {
        if (Volatile.Read(ref _waitingForRoom) != 0)
        {
            shard.Post(new Scheduling.WorkItem(s_roomFreed, this));
        }
    }

    private void OnRoomFreed() => _room?.TrySetResult();

    private async Task AcceptLoopAsync(ShardListener listener)
    {
        var exhaustion = new AcceptBackoff(server.Options);
        while (!_stopping && !_acceptStopped)
        {
            if (!server.HasRoom(this))
            {
                if (!await WaitForRoomAsync(listener).ConfigureAwait(true))
                {
                    break;
                }

                continue;
            }

            FileDescriptorHandle accepted;
            EndPoint? peer;
            try
            {
                (accepted, peer) = await listener.AcceptHandleAsync(default).ConfigureAwait(true);
            }
            catch (Exception) when (_stopping || listener.IsDisposed || shard.Runtime.IsStopping)
            {
                break;
            }
            catch (SocketException e) when (e.Data["errno"] is Errno.ECONNABORTED or Errno.ECONNRESET or Errno.EPROTO or Errno.EPERM or Errno.ENETDOWN
                or Errno.ENOPROTOOPT or Errno.EHOSTDOWN or Errno.EHOSTUNREACH or Errno.EOPNOTSUPP or Errno.ENETUNREACH
                or Errno.EINTR or Errno.EAGAIN)
            {
                // A connection that failed between the handshake and the accept (accept(2) lists these as the
                // pending connection's own errors), or an accept interrupted or with nothing to take: the next one is unaffected.
                continue;
            }
            catch (Exception e)
            {
                // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), an accept the kernel cancelled
                // without being asked (ECANCELED), or something unexpected: accepting again at once could fail again.
                // The kernel keeps the connections queued meanwhile (up to the backlog), and the connections already
                // served go on. Only the unexpected is worth a report; the
                // exhaustion is logged when it starts and when it ends, not per failure.
                bool exhausted = e is SocketException { Data: var data } && data["errno"] is Errno.EMFILE or Errno.ENFILE or Errno.ENOBUFS or Errno.ENOMEM;
                if (exhausted)
                {
                    if (exhaustion.Begin() && shard.Runtime.Logs.Net is { } logger)
                    {
                        NetLog.AcceptExhausted(logger, shard.Id, listener.LocalEndPoint.ToString() ?? "?", e.Message,
                            (long)server.Options.AcceptRetryDelay.TotalMilliseconds, (long)server.Options.MaxAcceptRetryDelay.TotalMilliseconds, _running);
                    }
                }
                else if (e is not OperationCanceledException)
                {
                    shard.Runtime.ReportUnhandledException(shard, e);
                }

                if (!await PauseAsync(exhaustion.NextDelay(exhausted)).ConfigureAwait(true))
                {
                    break;
                }

                continue;
            }

            if (exhaustion.Failures > 0)
            {
                if (exhaustion.End() && shard.Runtime.Logs.Net is { } logger)
                {
                    NetLog.AcceptResumed(logger, shard.Id, listener.LocalEndPoint.ToString() ?? "?", exhaustion.Failures, exhaustion.Elapsed.TotalSeconds);
                }

                exhaustion.Reset();
            }

            // Another shard may have taken the last place since the check above (MaxConnections counts over all
            // shards): this connection then waits, accepted, for the next place.
            bool placed = true;
            while (placed && !server.TryReserve(this))
            {
                placed = await WaitForRoomAsync(listener).ConfigureAwait(true);
            }

            if (!placed)
            {
                accepted.Dispose();
                break;
            }

            shard.CountConnectionAccepted();
            server.Dispatch(this, listener, accepted, peer);
        }

        // Also when the runtime stopped under the loop: the listening socket goes with it.
        listener.Dispose();
    }

    /// <summary>Waits, with accepting paused, until a connection ends (or the server stops). False when stopping.</summary>
    private async ValueTask<bool> WaitForRoomAsync(ShardListener listener)
    {
        _room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _waitingForRoom, 1);
        try
        {
            // Looked at again after announcing the wait: a connection that ended in between has seen the flag.
            if (server.HasRoom(this))
            {
                return !_stopping;
            }

            listener.PauseAccepting();
            if (shard.Runtime.Logs.Net is { } logger && logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug))
            {
                (string limit, int value) = server.LimitReached(this);
                NetLog.ConnectionLimitReached(logger, shard.Id, limit, value, listener.LocalEndPoint.ToString() ?? "?");
            }

            await _room.Task.ConfigureAwait(true);
            return !_stopping && !_acceptStopped && !shard.Runtime.IsStopping;
        }
        finally
        {
            Volatile.Write(ref _waitingForRoom, 0);
            _room = null;
        }
    }

    private async ValueTask<bool> PauseAsync(TimeSpan delay)
    {
        try
        {
            await shard.Delay(delay, _stop.Token).ConfigureAwait(true);
            return !_stopping;
        }
        catch (Exception) when (_stopping || shard.Runtime.IsStopping)
        {
            return false;
        }
    }

    /// <summary>An operation aborted or cancelled because the connection was closed by a stop, possibly wrapped by an adapter.</summary>
    private static bool IsAbortedByStop(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is SocketException { SocketErrorCode: SocketError.OperationAborted } or OperationCanceledException or ObjectDisposedException)
            {
                return true;
            }
        }

        return false;
    }

    private async Task RunAsync(ShardConnection connection, long id, bool observed, System.Diagnostics.Activity? activity = null)
    {
        long started = observed ? Clock.Now : 0;
        _live.Add(connection);
        _running++;
        shard.CountConnectionStarted();
        if (!_sweeping && server.Options.IdleTimeout is { } idle)
        {
            _sweeping = true;
            _ = SweepIdleAsync(idle);
        }

        try
        {
            await server.Handler(connection).ConfigureAwait(true);
        }
        catch (Exception e) when ((_stopping || shard.Runtime.IsStopping) && IsAbortedByStop(e))
        {
            // The server (or the runtime) closed this connection to stop: the handler's pending operation ended as the
            // stop says it would. Not a failure of the connection, so neither counted nor logged above Debug.
            NetLog.ConnectionEndedByStop(shard.Runtime.Logs.Net, shard.Id, id, e.Message);
        }
        catch (Exception e)
        {
            // Counted before it is reported, so that whoever hears of it sees it counted.
            server.OnConnectionFaulted();
            shard.CountConnectionFaulted();
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            if (!IsNetworkError(e))
            {
                shard.Runtime.ReportUnhandledException(shard, e);
            }
            else
            {
                NetLog.ConnectionFaulted(shard.Runtime.Logs.Net, shard.Id, id, connection.RemoteEndPoint?.ToString() ?? "?", e.Message);
            }
        }
        finally
        {
            if (observed)
            {
                NetLog.ConnectionClosed(shard.Runtime.Logs.Net, shard.Id, id, Clock.ToTimeSpan(Clock.Now - started).TotalMilliseconds);
                if (activity is not null)
                {
                    Diagnostics.MinissTracing.Stop(activity);
                }
            }

            _live.Remove(connection);
            connection.Dispose();
            _running--;
            shard.CountConnectionEnded();
            server.OnConnectionEnded(shard.Id);
            if (_running == 0)
            {
                _drained?.TrySetResult();
            }
        }
    }

    /// <summary>Closes the TCP connections of this shard that received nothing for <paramref name="timeout"/>, as the
    /// kernel counts it, checking four times per timeout, until the server stops.</summary>
    private async Task SweepIdleAsync(TimeSpan timeout)
    {
        long limit = (long)Math.Min(uint.MaxValue, Math.Max(1, timeout.TotalMilliseconds));
        TimeSpan period = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, timeout.Ticks / 4));
        var idle = new List<ShardConnection>();
        while (await PauseAsync(period).ConfigureAwait(true))
        {
            foreach (ShardConnection connection in _live)
            {
                if (connection.AddressFamily != AddressFamily.Unix
                    && NativeSocket.TryGetTimeSinceLastReceive(connection.Handle, out uint milliseconds) && milliseconds >= limit)
                {
                    idle.Add(connection);
                }
            }

            foreach (ShardConnection connection in idle)
            {
                server.OnConnectionTimedOut();
                if (shard.Runtime.Logs.Net is { } logger)
                {
                    NetLog.IdleConnectionClosed(logger, shard.Id, connection.RemoteEndPoint?.ToString() ?? "?", limit);
                }

                // The handler's pending operations fail (OperationAborted) and it ends as on any closed connection.
                connection.Dispose();
            }

            idle.Clear();
        }
    }

    private static bool IsNetworkError(Exception e) =>
        e is SocketException or IOException or OperationCanceledException or ObjectDisposedException;

    /// <summary>The pauses of an accept loop that keeps failing for lack of descriptors or memory: doubling from
    /// <see cref="ShardServerOptions.AcceptRetryDelay"/> up to <see cref="ShardServerOptions.MaxAcceptRetryDelay"/>; and
    /// whether an exhaustion is worth a log line. A server at its descriptor limit runs out again each time a freed
    /// descriptor is taken by the next client: an exhaustion that starts within <see cref="QuietPeriod"/> of the end of
    /// the last one logged is the same episode to its reader, and stays silent, start and end.</summary>
    private struct AcceptBackoff(ShardServerOptions options)
    {
        private static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(30);

        private readonly TimeSpan _first = options.AcceptRetryDelay;
        private readonly TimeSpan _max = options.MaxAcceptRetryDelay;
        private TimeSpan _next;
        private long _since;
        private long _lastLoggedEnd;
        private bool _logged;
        private bool _open;

        /// <summary>Failures in a row since the last accept that worked.</summary>
        public int Failures { get; private set; }

        /// <summary>How long the failures have lasted.</summary>
        public readonly TimeSpan Elapsed => Stopwatch.GetElapsedTime(_since);

        /// <summary>An accept failed for lack of resources: whether this starts an exhaustion worth logging.</summary>
        public bool Begin()
        {
            if (_open)
            {
                return false;
            }

            _open = true;
            _logged = _lastLoggedEnd == 0 || Stopwatch.GetElapsedTime(_lastLoggedEnd) >= QuietPeriod;
            return _logged;
        }

        /// <summary>An accept worked after an exhaustion: whether its end is worth logging (its start was).</summary>
        public bool End()
        {
            bool log = _open && _logged;
            if (log)
            {
                _lastLoggedEnd = Stopwatch.GetTimestamp();
            }

            _open = false;
            return log;
        }

        /// <summary>The pause after a failure: growing for an exhaustion, the first delay for anything else.</summary>
        public TimeSpan NextDelay(bool exhausted)
        {
            if (Failures++ == 0)
            {
                _since = Stopwatch.GetTimestamp();
                _next = _first;
            }

            if (!exhausted)
            {
                return _first;
            }

            TimeSpan delay = _next < _max ? _next : _max;
            _next = delay + delay;
            return delay;
        }

        public void Reset() => Failures = 0;
    }
}
