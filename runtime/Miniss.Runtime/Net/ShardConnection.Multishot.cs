using System.Threading;
using Miniss.IO.Uring;
using Miniss.Net.Internal;

namespace Miniss.Net;

// Receiving through a multishot receive and the shard's provided-buffer ring, when the shard can (see
// MultishotReceiver); otherwise, and once that receive has ended for good, through single-shot receives.
public sealed partial class ShardConnection
{
    private MultishotReceiver? _multishot;

    /// <summary>Whether this connection receives through a multishot receive and the shard's provided-buffer ring
    /// (decided at its first receive; false before it, and when the shard or kernel cannot). It stays true after the
    /// end of the stream, when receives go to the kernel single-shot to hear its answer again. On the owning shard.</summary>
    public bool ReceivesMultishot => _multishot is { UsesMultishot: true };

    /// <summary>Bytes received into the shard's provided buffers and not read yet (0 when not
    /// <see cref="ReceivesMultishot"/>). On the owning shard.</summary>
    public int BufferedReceiveBytes => _multishot?.QueuedBytes ?? 0;

    /// <summary>Whether a multishot receive is armed in the kernel for this connection now (tests).</summary>
    internal bool MultishotReceiveArmed => _multishot is { IsArmed: true };

    /// <summary>The multishot receive, set up at the first receive of a shard that supports it.</summary>
    private bool TryReceiveMultishot(out MultishotReceiver receiver)
    {
        if (_multishot is { } existing)
        {
            receiver = existing;
            return existing.IsActive;
        }

        receiver = null!;
        // Not on Unix domain sockets: there a multishot receive was seen (kernel 6.18, one echo in a few dozen, more
        // often on a busy machine) to deliver the peer's last bytes and never its end of stream: the receive stayed
        // armed, no completion came, and the handler waited for ever. Single-shot receives always hear it.
        if (AddressFamily == System.Net.Sockets.AddressFamily.Unix
            || !Shard.Networking.CanMultishotReceive || Shard.Networking.ReceiveBufferRing() is not ProvidedBufferRing ring)
        {
            return false;
        }

        receiver = new MultishotReceiver(this, ring);
        Volatile.Write(ref _multishot, receiver);
        return true;
    }

    /// <summary>Drops what the multishot receive queued, giving its buffers back (any thread; the work is done on the
    /// shard).</summary>
    private void ReleaseReceived() => Volatile.Read(ref _multishot)?.OnConnectionDisposed();
}
