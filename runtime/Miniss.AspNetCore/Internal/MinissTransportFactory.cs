using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Miniss.Net;

namespace Miniss.AspNetCore.Internal;

/// <summary>The transport Kestrel binds its IP and Unix domain socket endpoints with: one
/// <see cref="MinissConnectionListener"/> per endpoint, on the host's <see cref="MinissRuntime"/>.</summary>
internal sealed class MinissTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly MinissTransportOptions _options;
    private readonly ShardTransport[] _shards;
    private readonly List<MinissConnectionListener> _listeners = [];

    public MinissTransportFactory(MinissRuntime runtime, IOptions<MinissTransportOptions> options)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(options);
        Runtime = runtime;
        _options = options.Value;
        Validate(_options, runtime);
        _shards = new ShardTransport[runtime.ShardCount];
        for (int i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new ShardTransport(runtime[i], _options);
        }
    }

    public MinissRuntime Runtime { get; }

    /// <summary>Connections of every listener not finished yet. Any thread.</summary>
    public int Connections
    {
        get
        {
            int total = 0;
            lock (_listeners)
            {
                foreach (MinissConnectionListener listener in _listeners)
                {
                    total += listener.Connections;
                }
            }

            return total;
        }
    }

    /// <summary>Blocks rented from the shards' pools and not returned yet. Any thread.</summary>
    public long RentedBlocks
    {
        get
        {
            long total = 0;
            foreach (ShardTransport shard in _shards)
            {
                total += shard.Pool.RentedBlocks;
            }

            return total;
        }
    }

    /// <summary>Listeners bound and not disposed yet.</summary>
    public int Listeners
    {
        get
        {
            lock (_listeners)
            {
                return _listeners.Count;
            }
        }
    }

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint or UnixDomainSocketEndPoint;

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!CanBind(endpoint))
        {
            throw new NotSupportedException(
                $"The Miniss transport listens on IP and Unix domain socket endpoints, not on {endpoint.GetType().Name} {endpoint}: " +
                "bind that endpoint with another transport (Kestrel's sockets transport takes file handles).");
        }

        var listen = new ListenerOptions
        {
            Backlog = _options.Backlog,
            NoDelay = _options.NoDelay,
            ShareAcrossProcesses = _options.ShareAcrossProcesses,

            // Kestrel's ListenAnyIP binds [::] expecting IPv4 clients too, as its sockets transport does.
            DualMode = endpoint is IPEndPoint { Address: var address } && address.Equals(IPAddress.IPv6Any) ? true : null,
        };
        var server = new ShardServerOptions
        {
            Listener = listen,
            Distribution = _options.Distribution,
            AcceptorShard = _options.AcceptorShard,
            MaxConnections = _options.MaxConnections,
            MaxConnectionsPerShard = _options.MaxConnectionsPerShard,
        };
        MinissConnectionListener listener;
        try
        {
            listener = await MinissConnectionListener.BindAsync(this, endpoint, server, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            // Kestrel turns this exception, and only this one, into its "address already in use" failure.
            throw new AddressInUseException(
                $"{endpoint} is already in use by another process (or socket); stop it, choose another port, or set MinissTransportOptions.ShareAcrossProcesses to share the port with it.", e);
        }

        lock (_listeners)
        {
            _listeners.Add(listener);
        }

        return listener;
    }

    public void Dispose()
    {
        foreach (ShardTransport shard in _shards)
        {
            shard.Pool.Dispose();
        }
    }

    internal ShardTransport TransportOf(Shard shard) => _shards[shard.Id];

    internal void OnListenerDisposed(MinissConnectionListener listener)
    {
        lock (_listeners)
        {
            _listeners.Remove(listener);
        }
    }

    private static void Validate(MinissTransportOptions options, MinissRuntime runtime)
    {
        if (options.MaxBufferedInput <= 0)
        {
            throw new OptionsValidationException(nameof(MinissTransportOptions), typeof(MinissTransportOptions),
                [$"MinissTransportOptions.MaxBufferedInput is {options.MaxBufferedInput}: it must be a positive number of bytes (default 1 MiB)."]);
        }

        if (options.MaxBufferedOutput <= 0)
        {
            throw new OptionsValidationException(nameof(MinissTransportOptions), typeof(MinissTransportOptions),
                [$"MinissTransportOptions.MaxBufferedOutput is {options.MaxBufferedOutput}: it must be a positive number of bytes (default 64 KiB)."]);
        }

        if (options.MemoryBlockSize < 1024)
        {
            throw new OptionsValidationException(nameof(MinissTransportOptions), typeof(MinissTransportOptions),
                [$"MinissTransportOptions.MemoryBlockSize is {options.MemoryBlockSize}: it must be at least 1024 bytes (default 4096)."]);
        }

        if (options.MaxRetainedBlocks < 0)
        {
            throw new OptionsValidationException(nameof(MinissTransportOptions), typeof(MinissTransportOptions),
                [$"MinissTransportOptions.MaxRetainedBlocks is {options.MaxRetainedBlocks}: it must not be negative (default 4096)."]);
        }

        if ((uint)options.AcceptorShard >= (uint)runtime.ShardCount)
        {
            throw new OptionsValidationException(nameof(MinissTransportOptions), typeof(MinissTransportOptions),
                [$"MinissTransportOptions.AcceptorShard is {options.AcceptorShard}, but the runtime has {runtime.ShardCount} shards (0 to {runtime.ShardCount - 1})."]);
        }
    }
}
