using System;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.Net;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Net.NetTestSupport;

namespace Miniss.Runtime.Tests.IO;

/// <summary>The socket <c>sendmsg</c> of the operation catalog (<see cref="IoOperations.SendMessageAsync"/>), and the
/// vectored sends of a connection that use it: the bytes of every <c>iovec</c> in order, and failures raised as the
/// socket errors they are.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class SendMessageTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(30_000)]
    public async Task SendMessage_sends_the_bytes_of_every_iovec_in_order(CancellationToken token)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        byte[] expected = RandomBytes(3000, seed: 12);

        Task<Socket> accepted = listener.AcceptSocketAsync(token).AsTask();
        int sent = await scope.Runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection connection = await ShardConnection.ConnectAsync(listener.LocalEndpoint);
            var message = NativeMessage.Of(expected, [1000, 1, 1999]);
            try
            {
                return await IoOperations.SendMessageAsync(connection.Handle, message.Address, Sockets.MSG_NOSIGNAL);
            }
            finally
            {
                message.Free();
            }
        }).Within(token);

        using Socket peer = await accepted.WaitAsync(token);
        byte[] received = new byte[sent];
        int total = 0;
        while (total < sent)
        {
            int count = await peer.ReceiveAsync(received.AsMemory(total), SocketFlags.None, token);
            Assert.That(count, Is.Positive, "the peer's stream ended early");
            total += count;
        }

        Assert.That(sent, Is.EqualTo(expected.Length));
        AssertSameBytes(received, expected);
    }

    [Test, CancelAfter(30_000)]
    public async Task SendMessage_to_a_peer_that_reset_throws_SocketException(CancellationToken token)
    {
        Exception? error = await ErrorOfSendsAfterPeerReset(static async connection =>
        {
            var message = NativeMessage.Of(new byte[64], [64]);
            try
            {
                await IoOperations.SendMessageAsync(connection.Handle, message.Address, Sockets.MSG_NOSIGNAL);
            }
            finally
            {
                message.Free();
            }
        }, token);

        AssertSendmsgSocketError(error);
    }

    [Test, CancelAfter(30_000)]
    public async Task A_vectored_send_to_a_peer_that_reset_throws_the_SocketException_of_sendmsg(CancellationToken token)
    {
        Exception? error = await ErrorOfSendsAfterPeerReset(static async connection =>
        {
            ReadOnlyMemory<byte>[] buffers = [new byte[100], new byte[200], new byte[300]];
            await connection.SendAsync(buffers);
        }, token);

        // The socket error of the send itself, not a file error turned into one.
        AssertSendmsgSocketError(error);
    }

    /// <summary>Connects from shard 0, has the peer reset the connection, then repeats <paramref name="send"/> until it
    /// fails; returns what it threw. The first send after the reset meets it (ECONNRESET), a later one the closed pipe
    /// (EPIPE); a send the kernel took before the reset arrived is repeated, a bounded number of times.</summary>
    private static async Task<Exception?> ErrorOfSendsAfterPeerReset(Func<ShardConnection, Task> send, CancellationToken token)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var scope = RuntimeScope.Start(detectStalls: false);
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reset = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<Socket> accepted = listener.AcceptSocketAsync(token).AsTask();
        Task<Exception?> outcome = scope.Runtime.SubmitTo(0, async () =>
        {
            await using ShardConnection connection = await ShardConnection.ConnectAsync(listener.LocalEndpoint);
            connected.SetResult();
            await reset.Task.ConfigureAwait(true);
            try
            {
                for (int attempt = 0; attempt < 1000; attempt++)
                {
                    await send(connection);
                }

                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }).Within(token);

        await connected.Task.WaitAsync(token);
        Reset(await accepted.WaitAsync(token));
        reset.SetResult();
        return await outcome.WaitAsync(token);
    }

    private static void AssertSendmsgSocketError(Exception? error)
    {
        Assert.That(error, Is.TypeOf<SocketException>());
        Assert.That(((SocketException)error!).SocketErrorCode, Is.AnyOf(SocketError.ConnectionReset, SocketError.Shutdown));
        Assert.That(error.Data["operation"], Is.EqualTo("sendmsg"));
    }

    /// <summary>A <c>msghdr</c> in native memory whose iovecs cover a copy of some bytes, cut in pieces.</summary>
    private readonly unsafe struct NativeMessage
    {
        private readonly nint _bytes;
        private readonly nint _iovecs;

        private NativeMessage(nint bytes, nint iovecs, nint address)
        {
            _bytes = bytes;
            _iovecs = iovecs;
            Address = address;
        }

        /// <summary>The <c>msghdr</c>.</summary>
        public nint Address { get; }

        /// <summary>A copy of <paramref name="bytes"/> behind one iovec per entry of <paramref name="lengths"/> (which sum
        /// to its length).</summary>
        public static NativeMessage Of(byte[] bytes, int[] lengths)
        {
            byte* memory = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
            bytes.CopyTo(new Span<byte>(memory, bytes.Length));
            var iovecs = (iovec*)NativeMemory.AllocZeroed((nuint)lengths.Length, (nuint)sizeof(iovec));
            byte* at = memory;
            for (int i = 0; i < lengths.Length; i++)
            {
                iovecs[i].iov_base = at;
                iovecs[i].iov_len = (nuint)lengths[i];
                at += lengths[i];
            }

            var header = (msghdr*)NativeMemory.AllocZeroed((nuint)sizeof(msghdr));
            header->msg_iov = iovecs;
            header->msg_iovlen = (nuint)lengths.Length;
            return new NativeMessage((nint)memory, (nint)iovecs, (nint)header);
        }

        public void Free()
        {
            NativeMemory.Free((void*)Address);
            NativeMemory.Free((void*)_iovecs);
            NativeMemory.Free((void*)_bytes);
        }
    }
}
