using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;

namespace Miniss.Net.Internal;

/// <summary>
/// One shard's part of a <see cref="ShardServer"/>: its listener and accept loop (when it accepts), and the
/// connections it serves. Every member runs on that shard, so none of this state needs a lock.
/// </summary>
internal sealed class ServerShard(ShardServer server, Shard shard)
{
    private readonly HashSet<ShardConnection> _live = [];
    private ShardListener? _listener;
    private Task? _acceptLoop;
    private TaskCompletionSource? _drained;
    private bool _stopping;
    private int _running;

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

        _ = RunAsync(listener.Adopt(shard, accepted, peer));
    }

    /// <summary>Stops accepting, closes the connections still open and waits for their handlers.</summary>
    public async ValueTask StopAsync()
    {
        _stopping = true;
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
    }

    private async Task AcceptLoopAsync(ShardListener listener)
    {
        while (!_stopping)
        {
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
                // The kernel keeps the connections queued meanwhile (up to the backlog). Only the unexpected is worth a report.
                if (e is not OperationCanceledException
                    && (e is not SocketException { Data: var data } || data["errno"] is not (Errno.EMFILE or Errno.ENFILE or Errno.ENOBUFS or Errno.ENOMEM)))
                {
                    shard.Runtime.ReportUnhandledException(shard, e);
                }

                if (!await PauseAsync().ConfigureAwait(true))
                {
                    break;
                }

                continue;
            }

            server.Dispatch(this, listener, accepted, peer);
        }

        // Also when the runtime stopped under the loop: the listening socket goes with it.
        listener.Dispose();
    }

    private async ValueTask<bool> PauseAsync()
    {
        try
        {
            await shard.Delay(server.Options.AcceptRetryDelay).ConfigureAwait(true);
            return !_stopping;
        }
        catch (Exception) when (shard.Runtime.IsStopping)
        {
            return false;
        }
    }

    private async Task RunAsync(ShardConnection connection)
    {
        _live.Add(connection);
        _running++;
        try
        {
            await server.Handler(connection).ConfigureAwait(true);
        }
        catch (Exception e)
        {
            // Counted before it is reported, so that whoever hears of it sees it counted.
            server.OnConnectionFaulted();
            if (!IsNetworkError(e))
            {
                shard.Runtime.ReportUnhandledException(shard, e);
            }
        }
        finally
        {
            _live.Remove(connection);
            connection.Dispose();
            _running--;
            server.OnConnectionEnded(shard.Id);
            if (_running == 0)
            {
                _drained?.TrySetResult();
            }
        }
    }

    private static bool IsNetworkError(Exception e) =>
        e is SocketException or IOException or OperationCanceledException or ObjectDisposedException;
}
