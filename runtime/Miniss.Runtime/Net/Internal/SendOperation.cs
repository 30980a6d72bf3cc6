using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;

namespace Miniss.Net.Internal;

/// <summary>A connection's reusable send of a whole buffer (see <see cref="ConnectionOperation"/>): one
/// <c>IORING_OP_SEND</c>, and more while the kernel takes less than what is left.</summary>
internal sealed class SendOperation(ShardConnection connection) : ConnectionOperation(connection)
{
    // MSG_NOSIGNAL: a send to a closed peer fails with EPIPE instead of raising SIGPIPE. Not MSG_WAITALL, although it
    // would let io_uring finish a large send in one operation: when the peer resets after part of the buffer went out,
    // io_uring reports the part and drops the error (ECONNRESET), and the next send can only say EPIPE. Short sends
    // are repeated here instead, so the send that meets the reset reports it.
    public const int Flags = Sockets.MSG_NOSIGNAL;

    private ReadOnlyMemory<byte> _remaining;
    private CancellationToken _cancellationToken;

    public ValueTask Start(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        Begin();
        Connection.OnSendStarted();
        _remaining = buffer;
        _cancellationToken = cancellationToken;
        Continue();
        return new ValueTask(this, Version);
    }

    protected override void OnCompleted(ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter operation)
    {
        if (Advance(operation))
        {
            Continue();
        }
    }

    /// <summary>Sends what is left, until a send is pending (its completion comes back to <see cref="OnCompleted"/>)
    /// or nothing is left.</summary>
    private void Continue()
    {
        while (!_remaining.IsEmpty)
        {
            ValueTask<int> send = IoOperations.SendAsync(Connection.Handle, _remaining, Flags, _cancellationToken);
            if (!send.IsCompleted)
            {
                Await(send);
                return;
            }

            if (!Advance(send.ConfigureAwait(false).GetAwaiter()))
            {
                return;
            }
        }

        Finish(null);
    }

    /// <summary>Takes a send's count off what is left; false when the send failed (and the operation is finished).</summary>
    private bool Advance(ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter operation)
    {
        int sent;
        try
        {
            sent = operation.GetResult();
        }
        catch (Exception e)
        {
            Finish(Connection.Failure("send", e));
            return false;
        }

        if (Connection.IsDisposed)
        {
            Finish(ShardConnection.Aborted("send"));
            return false;
        }

        if (sent <= 0)
        {
            // Only an empty buffer sends nothing; never loop on a send that makes no progress.
            Finish(NativeSocket.Error(Errno.EPIPE, "send"));
            return false;
        }

        _remaining = _remaining[sent..];
        return true;
    }

    /// <summary>A zeroed <c>msghdr</c> in native memory, for a vectored send (<see cref="IoOperations.SendMessageAsync"/>);
    /// freed with <see cref="FreeMessage"/>.</summary>
    internal static unsafe nint AllocateMessage() => (nint)NativeMemory.AllocZeroed((nuint)sizeof(msghdr));

    /// <summary>Points the <c>msghdr</c> at <paramref name="message"/> at <paramref name="count"/> <c>iovec</c>s.</summary>
    internal static unsafe void SetMessage(nint message, nint iovecs, int count)
    {
        var header = (msghdr*)message;
        header->msg_iov = (iovec*)iovecs;
        header->msg_iovlen = (nuint)count;
    }

    /// <summary>Frees a <c>msghdr</c> of <see cref="AllocateMessage"/>.</summary>
    internal static unsafe void FreeMessage(nint message) => NativeMemory.Free((void*)message);

    private void Finish(Exception? error)
    {
        _remaining = default;
        _cancellationToken = default;
        Connection.OnSendEnded();
        Complete(0, error);
    }
}
