using System;
using System.Collections.Generic;
using System.Threading;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Uring;

namespace Miniss;

/// <summary>An operation that stays armed in the kernel and completes many times (multishot receive or accept).</summary>
internal interface IMultishotOperation
{
    /// <summary>One completion of the operation, on its shard. The last one lacks <c>IORING_CQE_F_MORE</c>; by then
    /// the shard has already released the operation's slot, so the handler may arm it again. Must not throw.</summary>
    void OnMultishotCompletion(int result, uint flags);
}

// Multishot operations, apart from the single-shot IoPromise path: an operation armed here completes many times,
// and only a completion without IORING_CQE_F_MORE ends it. Their user data carries MultishotUserDataTag and its own
// slot table, so a completion can never be mistaken for an IoPromise's (whose slots end at its first completion).
// Also the shard's provided-buffer ring, set up the first time a connection asks for it.
public sealed partial class Shard
{
    /// <summary>Marks the user data of a multishot operation (bit 63 is the backend's own, bits 0-47 the slot and
    /// its generation).</summary>
    internal const ulong MultishotUserDataTag = 1UL << 62;

    private readonly List<MultishotSlot> _multishotSlots = [];
    private readonly Stack<int> _freeMultishot = new();
    private ProvidedBufferRing? _bufferRing;
    private string? _bufferRingRefusal;
    private bool _bufferRingTried;
    private MultishotCounters _multishot;

    /// <summary>A snapshot of this shard's multishot receive and accept counters and of its provided-buffer ring;
    /// any thread may read it.</summary>
    public MultishotStatistics MultishotStatistics
    {
        get
        {
            ProvidedBufferRing? ring = Volatile.Read(ref _bufferRing);
            return new MultishotStatistics(
                Id,
                ring is not null,
                ring?.Count ?? 0,
                ring?.BufferSize ?? 0,
                ring?.InUse ?? 0,
                ring?.HandedOut ?? 0,
                Volatile.Read(ref _multishot.ReceivesArmed),
                Volatile.Read(ref _multishot.BufferStarvations),
                Volatile.Read(ref _multishot.SingleShotReceives),
                Volatile.Read(ref _multishot.AcceptsArmed),
                Volatile.Read(ref _multishot.Accepted));
        }
    }

    /// <summary>Why the provided-buffer ring could not be set up, once it was tried; otherwise <see langword="null"/>.</summary>
    internal string? BufferRingRefusal => _bufferRingRefusal;

    /// <summary>Whether multishot receives were seen working here (a completion with data or still armed).</summary>
    internal bool MultishotReceiveConfirmed { get; set; }

    /// <summary>Whether the kernel refused a multishot receive (EINVAL before any worked): single-shot from then on.</summary>
    internal bool MultishotReceiveUnsupported { get; set; }

    /// <summary>Whether multishot accepts were seen working here.</summary>
    internal bool MultishotAcceptConfirmed { get; set; }

    /// <summary>Whether the kernel refused a multishot accept (EINVAL before any worked): single-shot from then on.</summary>
    internal bool MultishotAcceptUnsupported { get; set; }

    /// <summary>Whether a multishot operation may be armed now: the shard runs an io_uring ring, the runtime allows
    /// multishot operations, and the shard is not stopping (its stop cancels what is armed, once).</summary>
    internal bool CanArmMultishot => _options.Multishot && _ring is not null && !_rejecting && t_current == this;

    /// <summary>Whether connections of this shard should receive through multishot receives now.</summary>
    internal bool CanMultishotReceive => CanArmMultishot && !MultishotReceiveUnsupported && ReceiveBufferRing() is not null;

    /// <summary>Whether listeners should accept on this shard through multishot accepts now.</summary>
    internal bool CanMultishotAccept => CanArmMultishot && !MultishotAcceptUnsupported;

    /// <summary>
    /// The shard's provided-buffer ring, set up on first use with <see cref="RuntimeOptions.ReceiveBufferCount"/>
    /// buffers of <see cref="RuntimeOptions.ReceiveBufferSize"/> bytes and owned by the io_uring ring; <see langword="null"/>
    /// when it is turned off, the kernel refused it (it is not tried again), or the shard has no io_uring ring.
    /// </summary>
    internal ProvidedBufferRing? ReceiveBufferRing()
    {
        if (_bufferRing is not null || _bufferRingTried)
        {
            return _bufferRing;
        }

        _bufferRingTried = true;
        if (_ring is not { } ring || _options.ReceiveBufferCount == 0 || !_options.Multishot)
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
    /// Takes a slot for <paramref name="operation"/> and the next SQE, with its user data set; the caller fills in the
    /// rest. The operation counts as in flight (the shard's stop cancels it and waits for its last completion) until
    /// a completion without <c>IORING_CQE_F_MORE</c> arrives. Only when <see cref="CanArmMultishot"/>.
    /// </summary>
    internal unsafe io_uring_sqe* ArmMultishot(IMultishotOperation operation, out ulong userData)
    {
        if (!_freeMultishot.TryPop(out int slot))
        {
            slot = _multishotSlots.Count;
            _multishotSlots.Add(default);
        }

        MultishotSlot entry = _multishotSlots[slot];
        entry.Operation = operation;
        _multishotSlots[slot] = entry;
        userData = MultishotUserDataTag | ((ulong)entry.Generation << 32) | (uint)slot;
        _inFlight++;
        _stats.IoSubmissions++;
        io_uring_sqe* sqe = _ring!.NextSqe();
        sqe->user_data = userData;
        return sqe;
    }

    /// <summary>Asks the kernel to end the multishot operation armed as <paramref name="userData"/>; its last
    /// completion (<c>-ECANCELED</c>, or whatever came first) still arrives.</summary>
    internal void CancelMultishot(ulong userData) => SubmitCancel(userData);

    internal void CountMultishotReceiveArmed() => _multishot.ReceivesArmed++;

    internal void CountBufferStarvation() => _multishot.BufferStarvations++;

    internal void CountSingleShotReceive() => _multishot.SingleShotReceives++;

    internal void CountMultishotAcceptArmed() => _multishot.AcceptsArmed++;

    internal void CountMultishotAccepted() => _multishot.Accepted++;

    /// <summary>A completion whose user data carries <see cref="MultishotUserDataTag"/>.</summary>
    private void CompleteMultishot(in IoCompletion completion)
    {
        int slot = (int)(uint)completion.UserData;
        ushort generation = (ushort)(completion.UserData >> 32);
        IMultishotOperation? operation = (uint)slot < (uint)_multishotSlots.Count && _multishotSlots[slot].Generation == generation
            ? _multishotSlots[slot].Operation
            : null;
        if (operation is null)
        {
            // Nobody owns it any more; a buffer it carries must still go back to the kernel.
            if ((completion.Flags & IoUring.IORING_CQE_F_BUFFER) != 0 && _bufferRing is { } ring)
            {
                ring.OnHandedOut();
                ring.Recycle((ushort)(completion.Flags >> IoUring.IORING_CQE_BUFFER_SHIFT));
            }

            return;
        }

        if ((completion.Flags & IoUring.IORING_CQE_F_MORE) == 0)
        {
            // The last completion: the slot is free again (a new generation, so anything stale is recognised).
            _multishotSlots[slot] = new MultishotSlot { Generation = unchecked((ushort)(generation + 1)) };
            _freeMultishot.Push(slot);
            _inFlight--;
        }

        try
        {
            operation.OnMultishotCompletion(completion.Result, completion.Flags);
        }
        catch (Exception e)
        {
            _stats.UnhandledExceptions++;
            _runtime.ReportUnhandledException(this, e);
        }
    }

    private struct MultishotSlot
    {
        public IMultishotOperation? Operation;
        public ushort Generation;
    }

    private struct MultishotCounters
    {
        public long ReceivesArmed;
        public long BufferStarvations;
        public long SingleShotReceives;
        public long AcceptsArmed;
        public long Accepted;
    }
}
