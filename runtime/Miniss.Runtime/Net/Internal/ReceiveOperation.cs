using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;

namespace Miniss.Net.Internal;

/// <summary>
/// A connection's reusable receive (see <see cref="ConnectionOperation"/>): one <c>IORING_OP_RECV</c> into the
/// caller's memory. One of the two ways a connection receives, and the only single-shot one: the connection's own
/// receives when it does not receive multishot (readiness backends, Unix domain sockets, a kernel without multishot
/// receives, after the stream's end), a receive issued while that one is busy (an operation of its own), and the
/// <see cref="MultishotReceiver"/>'s fallback when the provided-buffer ring is empty. The other way is the multishot
/// receive with provided buffers, copied out to a <see cref="ReceiveWaiter"/>.
/// </summary>
internal sealed class ReceiveOperation(ShardConnection connection) : ConnectionOperation(connection)
{
    public ValueTask<int> Start(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ValueTask<int> receive = IoOperations.ReceiveAsync(Connection.Handle, buffer, 0, cancellationToken);
        if (receive.IsCompleted)
        {
            // Never reached the kernel (a cancelled token, a runtime stopping, a closed handle): its own outcome.
            return receive;
        }

        Begin();
        Connection.OnReceiveStarted();
        Await(receive);
        return new ValueTask<int>(this, Version);
    }

    protected override void OnCompleted(ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter operation)
    {
        Connection.OnReceiveEnded();
        int received;
        try
        {
            received = operation.GetResult();
        }
        catch (Exception e)
        {
            Complete(0, Connection.Failure("recv", e));
            return;
        }

        // A receive woken by Dispose's shutdown reads an end of stream that the peer never sent.
        Complete(received, Connection.IsDisposed ? ShardConnection.Aborted("recv") : null);
    }
}
