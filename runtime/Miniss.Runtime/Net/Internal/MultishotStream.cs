using System;
using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;
using Miniss.IO;

namespace Miniss.Net.Internal;

/// <summary>
/// One multishot operation of a socket on a shard (a receive with buffer selection, an accept): armed once, it
/// completes once per item until a completion without <c>IORING_CQE_F_MORE</c> ends it. This base owns the kernel
/// side (the <see cref="MultishotState"/>, the SQE's user data, the reference on the socket's handle held while
/// armed); <see cref="MultishotReceiver"/> and <see cref="MultishotAcceptor"/> say what an item is, what ends the
/// stream for good and when to arm it again. Everything here runs on <see cref="Shard"/>.
/// </summary>
internal abstract class MultishotStream : ICompletionTarget
{
    private ulong _userData;
    private bool _holdsHandle;

    protected MultishotStream(Shard shard) => Shard = shard;

    /// <summary>The shard the operation runs on.</summary>
    public Shard Shard { get; }

    /// <summary>Where the operation stands in the kernel.</summary>
    public MultishotState State { get; private set; }

    /// <summary>Whether the operation is in the kernel (armed, or cancelling and not ended yet).</summary>
    public bool IsArmed => State is MultishotState.Armed or MultishotState.Cancelling;

    /// <summary>The socket the operation runs on.</summary>
    protected abstract SafeHandle Handle { get; }

    /// <inheritdoc/>
    public void OnCompletion(int result, uint flags)
    {
        bool more = (flags & IoUring.IORING_CQE_F_MORE) != 0;
        OnItem(result, flags, more);
        if (!more)
        {
            State = MultishotState.Idle;
            if (_holdsHandle)
            {
                _holdsHandle = false;
                Handle.DangerousRelease();
            }

            OnEnded(result);
        }

        OnCompletionHandled();
    }

    /// <summary>One completion: an item, or a failure that may or may not end the operation (<paramref name="more"/>).</summary>
    protected abstract void OnItem(int result, uint flags, bool more);

    /// <summary>The last completion (after <see cref="OnItem"/>): the state is back to <see cref="MultishotState.Idle"/>
    /// and the handle released; decide whether the stream is over or may be armed again.</summary>
    protected abstract void OnEnded(int result);

    /// <summary>After every completion, once the state is settled.</summary>
    protected virtual void OnCompletionHandled()
    {
    }

    /// <summary>Writes the operation's SQE (opcode, descriptor, flags, and <paramref name="userData"/>, the shard's
    /// token for this registration) through the catalog's generated prepare function.</summary>
    protected abstract unsafe void Prepare(io_uring_sqe* sqe, int fd, ulong userData);

    /// <summary>Arms the operation: references the handle (so its descriptor cannot be closed and reused under the
    /// operation) and writes the SQE. False when the handle is already closed (nothing armed). The caller checks
    /// that the shard can arm (<c>Shard.Networking.CanArmMultishot</c>).</summary>
    protected unsafe bool TryArm()
    {
        bool added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        _holdsHandle = added;
        io_uring_sqe* sqe = Shard.Networking.ArmMultishot(this, out _userData);
        Prepare(sqe, (int)Handle.DangerousGetHandle(), _userData);
        State = MultishotState.Armed;
        return true;
    }

    /// <summary>Asks the kernel to end the operation, once: only while <see cref="MultishotState.Armed"/>.</summary>
    protected void RequestCancel()
    {
        if (State == MultishotState.Armed)
        {
            State = MultishotState.Cancelling;
            Shard.Networking.CancelMultishot(_userData);
        }
    }

    /// <summary>The kernel refused the multishot form: terminal (from <see cref="OnEnded"/>).</summary>
    protected void MarkUnsupported() => State = MultishotState.Unsupported;
}
