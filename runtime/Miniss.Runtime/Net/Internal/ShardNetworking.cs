using System.Threading;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Uring;

namespace Miniss.Net.Internal;

/// <summary>
/// A shard's networking state: its provided-buffer ring (set up the first time a connection asks for it), what the
/// kernel was seen to support of multishot receives and accepts, and their counters. Multishot operations register
/// in the shard's completion table like every operation (<see cref="Shard.Arm"/>); what is theirs alone is here.
/// Reached as <see cref="Shard.Networking"/>; used on the shard's thread, except the statistics, which any thread reads.
/// </summary>
internal sealed class ShardNetworking
{
    private readonly Shard _shard;
    private readonly RuntimeOptions _options;
    private ProvidedBufferRing? _bufferRing;
    private string? _bufferRingRefusal;
    private bool _bufferRingTried;
    private MultishotCounters _counters;

    public ShardNetworking(Shard shard, RuntimeOptions options)
    {
        _shard = shard;
        _options = options;
    }

    /// <summary>A snapshot of the shard's multishot receive and accept counters and of its provided-buffer ring;
    /// any thread may read it.</summary>
    public MultishotStatistics Statistics
    {
        get
        {
            ProvidedBufferRing? ring = Volatile.Read(ref _bufferRing);
            return new MultishotStatistics(
                _shard.Id,
                ring is not null,
                ring?.Count ?? 0,
                ring?.BufferSize ?? 0,
                ring?.InUse ?? 0,
                ring?.HandedOut ?? 0,
                Volatile.Read(ref _counters.ReceivesArmed),
                Volatile.Read(ref _counters.BufferStarvations),
                Volatile.Read(ref _counters.SingleShotReceives),
                Volatile.Read(ref _counters.AcceptsArmed),
                Volatile.Read(ref _counters.Accepted));
        }
    }

    /// <summary>Buffers of the provided-buffer ring holding received data not yet consumed (0 without a ring). Any thread.</summary>
    public int ProvidedBuffersInUse => Volatile.Read(ref _bufferRing)?.InUse ?? 0;

    /// <summary>Why the provided-buffer ring could not be set up, once it was tried; otherwise <see langword="null"/>.</summary>
    public string? BufferRingRefusal => _bufferRingRefusal;

    /// <summary>Whether multishot receives were seen working here (a completion with data or still armed).</summary>
    public bool MultishotReceiveConfirmed { get; set; }

    /// <summary>Whether the kernel refused a multishot receive (EINVAL before any worked): single-shot from then on.</summary>
    public bool MultishotReceiveUnsupported { get; set; }

    /// <summary>Whether multishot accepts were seen working here.</summary>
    public bool MultishotAcceptConfirmed { get; set; }

    /// <summary>Whether the kernel refused a multishot accept (EINVAL before any worked): single-shot from then on.</summary>
    public bool MultishotAcceptUnsupported { get; set; }

    /// <summary>Whether a multishot operation may be armed now: the shard runs an io_uring ring, the runtime allows
    /// multishot operations, and the shard is not stopping (its stop cancels what is armed, once).</summary>
    public bool CanArmMultishot => _options.Multishot && _shard.UringOrNull is not null && !_shard.IsRejecting && Shard.Current == _shard;

    /// <summary>Whether connections of this shard should receive through multishot receives now.</summary>
    public bool CanMultishotReceive => CanArmMultishot && !MultishotReceiveUnsupported && ReceiveBufferRing() is not null;

    /// <summary>Whether listeners should accept on this shard through multishot accepts now.</summary>
    public bool CanMultishotAccept => CanArmMultishot && !MultishotAcceptUnsupported;

    /// <summary>
    /// The shard's provided-buffer ring, set up on first use with <see cref="RuntimeOptions.ReceiveBufferCount"/>
    /// buffers of <see cref="RuntimeOptions.ReceiveBufferSize"/> bytes and owned by the io_uring ring; <see langword="null"/>
    /// when it is turned off, the kernel refused it (it is not tried again), or the shard has no io_uring ring.
    /// </summary>
    public ProvidedBufferRing? ReceiveBufferRing()
    {
        if (_bufferRing is not null || _bufferRingTried)
        {
            return _bufferRing;
        }

        _bufferRingTried = true;
        if (_shard.UringOrNull is not { } ring || _options.ReceiveBufferCount == 0 || !_options.Multishot)
        {
            _bufferRingRefusal = "multishot receives are turned off";
            return null;
        }

        ProvidedBufferRing? created = ProvidedBufferRing.TryCreate(ring.Fd, _options.ReceiveBufferCount, _options.ReceiveBufferSize, out string? reason);
        _bufferRingRefusal = reason;
        if (created is not null)
        {
            ring.Attach(created);
        }

        Volatile.Write(ref _bufferRing, created);
        return created;
    }

    /// <summary>
    /// Registers <paramref name="operation"/> in the shard's completion table and takes the next SQE, which the
    /// caller's generated prepare function fills in, <paramref name="userData"/> included. Only when <see cref="CanArmMultishot"/>.
    /// </summary>
    public unsafe io_uring_sqe* ArmMultishot(ICompletionTarget operation, out ulong userData) => _shard.Arm(operation, out userData);

    /// <summary>Asks the kernel to end the multishot operation armed as <paramref name="userData"/>; its last
    /// completion (<c>-ECANCELED</c>, or whatever came first) still arrives.</summary>
    public void CancelMultishot(ulong userData) => _shard.SubmitCancel(userData);

    /// <summary>A completion nobody owns any more (stale): a provided buffer it carries goes back to the kernel.</summary>
    public void ReturnUnclaimedBuffer(uint flags)
    {
        if ((flags & IoUring.IORING_CQE_F_BUFFER) != 0 && _bufferRing is { } ring)
        {
            ring.OnHandedOut();
            ring.Recycle((ushort)(flags >> IoUring.IORING_CQE_BUFFER_SHIFT));
        }
    }

    public void CountMultishotReceiveArmed() => _counters.ReceivesArmed++;

    public void CountBufferStarvation() => _counters.BufferStarvations++;

    public void CountSingleShotReceive() => _counters.SingleShotReceives++;

    public void CountMultishotAcceptArmed() => _counters.AcceptsArmed++;

    public void CountMultishotAccepted() => _counters.Accepted++;

    private struct MultishotCounters
    {
        public long ReceivesArmed;
        public long BufferStarvations;
        public long SingleShotReceives;
        public long AcceptsArmed;
        public long Accepted;
    }
}
