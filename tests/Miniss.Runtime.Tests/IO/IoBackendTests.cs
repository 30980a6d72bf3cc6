using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Miniss.Bindings.Linux;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.IO;

/// <summary>The public <see cref="IoBackend"/> contract, driven directly without a runtime, for every backend this
/// machine can run.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed unsafe class IoBackendTests(IoBackendKind backend) : BackendFixture(backend)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private IoBackend Create(int entries, int? completionEntries = null) =>
        IoBackend.Create(Backend, new IoBackendOptions { Entries = entries, CompletionEntries = completionEntries });

    [Test]
    public void The_backend_names_itself()
    {
        using IoBackend backend = Create(8);
        Assert.That(backend.Kind, Is.EqualTo(Backend));
        Assert.That(backend.Name, Is.EqualTo(IoBackendSelection.NameOf(Backend)));
    }

    [Test]
    public void A_nop_completes_with_zero_and_its_user_data()
    {
        using IoBackend backend = Create(8);
        backend.Submit(IoOperation.Nop(42));

        Span<IoCompletion> completions = stackalloc IoCompletion[4];
        int count = backend.Poll(TimeSpan.FromSeconds(5), completions);

        Assert.That(count, Is.EqualTo(1));
        Assert.That(completions[0].UserData, Is.EqualTo(42UL));
        Assert.That(completions[0].Result, Is.Zero);
    }

    [Test]
    public void Submitting_costs_no_system_call_and_a_batch_costs_one()
    {
        using IoBackend backend = Create(64);
        long before = backend.SystemCalls;
        for (ulong i = 0; i < 32; i++)
        {
            backend.Submit(IoOperation.Nop(i));
        }

        Assert.That(backend.SystemCalls, Is.EqualTo(before), "queuing operations must not enter the kernel");
        Span<IoCompletion> completions = stackalloc IoCompletion[64];
        int count = backend.Poll(TimeSpan.Zero, completions);

        Assert.That(count, Is.EqualTo(32));
        // io_uring hands the batch over in one io_uring_enter; a readiness backend runs no-ops without the kernel.
        Assert.That(backend.SystemCalls, Is.EqualTo(before + (Backend == IoBackendKind.IoUring ? 1 : 0)));
    }

    [Test]
    public void An_empty_poll_makes_no_system_call()
    {
        using IoBackend backend = Create(8);
        Span<IoCompletion> completions = stackalloc IoCompletion[4];
        long before = backend.SystemCalls;

        for (int i = 0; i < 1000; i++)
        {
            Assert.That(backend.Poll(TimeSpan.Zero, completions), Is.Zero);
        }

        Assert.That(backend.SystemCalls, Is.EqualTo(before));
    }

    [Test]
    public void A_full_submission_queue_is_flushed_and_no_operation_or_completion_is_lost()
    {
        // Two submission entries and four completion entries for a thousand operations: the submission queue fills
        // hundreds of times and the completion queue overflows into the kernel's backlog.
        using IoBackend backend = Create(2, 4);
        const int total = 1000;
        for (ulong i = 0; i < total; i++)
        {
            backend.Submit(IoOperation.Nop(i));
        }

        var seen = new HashSet<ulong>();
        Span<IoCompletion> completions = stackalloc IoCompletion[3];
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (seen.Count < total && DateTime.UtcNow < deadline)
        {
            int count = backend.Poll(TimeSpan.FromMilliseconds(100), completions);
            for (int i = 0; i < count; i++)
            {
                Assert.That(seen.Add(completions[i].UserData), Is.True, $"completion {completions[i].UserData} delivered twice");
                Assert.That(completions[i].Result, Is.Zero);
            }
        }

        Assert.That(seen, Has.Count.EqualTo(total));
    }

    [Test]
    public void A_timeout_completes_with_etime_after_its_delay()
    {
        using IoBackend backend = Create(8);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        backend.Submit(IoOperation.TimeoutAfter(TimeSpan.FromMilliseconds(30), 7));

        Span<IoCompletion> completions = stackalloc IoCompletion[2];
        int count = backend.Poll(TimeSpan.FromSeconds(5), completions);

        Assert.That(count, Is.EqualTo(1));
        Assert.That(completions[0].Result, Is.EqualTo(-Errno.ETIME));
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(29)));
    }

    [Test]
    public void Cancelling_a_pending_timeout_completes_it_with_ecanceled()
    {
        using IoBackend backend = Create(8);
        IoHandle handle = backend.Submit(IoOperation.TimeoutAfter(TimeSpan.FromSeconds(30), 9));
        Span<IoCompletion> completions = stackalloc IoCompletion[2];
        Assert.That(backend.Poll(TimeSpan.Zero, completions), Is.Zero);

        Assert.That(backend.Cancel(handle), Is.True);
        int count = backend.Poll(TimeSpan.FromSeconds(5), completions);

        Assert.That(count, Is.EqualTo(1), "only the cancelled operation reports; the cancel request itself does not");
        Assert.That(completions[0].UserData, Is.EqualTo(9UL));
        Assert.That(completions[0].Result, Is.EqualTo(-Errno.ECANCELED));
    }

    [Test]
    public void A_poll_with_a_timeout_and_nothing_in_flight_returns_after_the_timeout()
    {
        using IoBackend backend = Create(8);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Span<IoCompletion> completions = stackalloc IoCompletion[2];

        Assert.That(backend.Poll(TimeSpan.FromMilliseconds(20), completions), Is.Zero);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(19)));
    }

    [Test]
    public void User_data_with_the_reserved_top_bit_is_refused_and_nothing_is_queued()
    {
        using IoBackend backend = Create(8);

        var refused = Assert.Throws<ArgumentException>(() => backend.Submit(IoOperation.Nop((1UL << 63) | 5)));

        Assert.That(refused!.Message, Does.Contain("reserved").And.Contain("below 2^63"));
        Span<IoCompletion> completions = stackalloc IoCompletion[2];
        Assert.That(backend.Poll(TimeSpan.Zero, completions), Is.Zero, "the refused operation must not have been queued");
    }

    [Test]
    public void A_disposed_backend_refuses_every_call_and_may_be_disposed_again()
    {
        IoBackend backend = Create(8);
        backend.Dispose();

        Assert.Throws<ObjectDisposedException>(() => backend.Poll(TimeSpan.Zero, new IoCompletion[4]));
        Assert.Throws<ObjectDisposedException>(() => backend.Submit(IoOperation.Nop(1)));
        Assert.Throws<ObjectDisposedException>(() => backend.Cancel(new IoHandle(1)));
        Assert.DoesNotThrow(backend.Dispose);
    }

    [Test]
    public void A_file_written_and_fsynced_through_the_backend_reads_back_the_same_bytes()
    {
        string path = Path.GetTempFileName();
        byte* buffer = (byte*)NativeMemory.AllocZeroed(4096);
        try
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite);
            int fd = (int)file.DangerousGetHandle();
            byte[] expected = Encoding.ASCII.GetBytes("written by an IoBackend at offset 100");
            expected.CopyTo(new Span<byte>(buffer, expected.Length));
            using IoBackend backend = Create(8);

            backend.Submit(IoOperation.Write(fd, (nint)buffer, expected.Length, 100, 1));
            Assert.That(Await(backend, 1), Is.EqualTo(expected.Length));
            backend.Submit(IoOperation.Fsync(fd, 2));
            Assert.That(Await(backend, 2), Is.Zero);

            new Span<byte>(buffer, 4096).Clear();
            backend.Submit(IoOperation.Read(fd, (nint)buffer, 4096, 100, 3));
            Assert.That(Await(backend, 3), Is.EqualTo(expected.Length));
            Assert.That(new Span<byte>(buffer, expected.Length).ToArray(), Is.EqualTo(expected));
            Assert.That(File.ReadAllBytes(path)[100..], Is.EqualTo(expected), "the bytes are in the file, where the offset said");
        }
        finally
        {
            NativeMemory.Free(buffer);
            File.Delete(path);
        }
    }

    [Test]
    public void A_pool_buffer_is_written_and_read_back_through_its_handle()
    {
        string path = Path.GetTempFileName();
        try
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite);
            int fd = (int)file.DangerousGetHandle();
            using Miniss.Buffers.BufferPool pool = Buffers.Pools.Create(4 * Buffers.Pools.MiB);
            Miniss.Buffers.BufferHandle buffer = Buffers.Pools.Take(pool, 4096);
            buffer.Span.Fill((byte)'m');
            using IoBackend backend = Create(8);

            backend.Submit(IoOperation.Write(fd, buffer, 0, 1));
            Assert.That(Await(backend, 1), Is.EqualTo(4096));

            buffer.Span.Clear();
            backend.Submit(IoOperation.Read(fd, buffer, 0, 2));
            Assert.That(Await(backend, 2), Is.EqualTo(4096));
            Assert.That(buffer.Span.IndexOfAnyExcept((byte)'m'), Is.EqualTo(-1));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void A_vectored_write_and_read_move_every_iovec_in_order()
    {
        string path = Path.GetTempFileName();
        byte* memory = (byte*)NativeMemory.AllocZeroed(64);
        iovec* vectors = (iovec*)NativeMemory.AllocZeroed(2, (nuint)sizeof(iovec));
        try
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite);
            int fd = (int)file.DangerousGetHandle();
            "first,"u8.CopyTo(new Span<byte>(memory, 6));
            "second"u8.CopyTo(new Span<byte>(memory + 32, 6));
            vectors[0] = new iovec { iov_base = memory, iov_len = 6 };
            vectors[1] = new iovec { iov_base = memory + 32, iov_len = 6 };
            using IoBackend backend = Create(8);

            backend.Submit(IoOperation.WriteVector(fd, (nint)vectors, 2, 0, 1));
            Assert.That(Await(backend, 1), Is.EqualTo(12));
            Assert.That(File.ReadAllText(path), Is.EqualTo("first,second"));

            new Span<byte>(memory, 64).Clear();
            backend.Submit(IoOperation.ReadVector(fd, (nint)vectors, 2, 0, 2));
            Assert.That(Await(backend, 2), Is.EqualTo(12));
            Assert.That(Encoding.ASCII.GetString(memory, 6) + Encoding.ASCII.GetString(memory + 32, 6), Is.EqualTo("first,second"));
        }
        finally
        {
            NativeMemory.Free(vectors);
            NativeMemory.Free(memory);
            File.Delete(path);
        }
    }

    [Test]
    public void A_file_opened_through_the_backend_is_a_descriptor_that_closes_through_it()
    {
        string path = Path.GetTempFileName();
        byte[] utf8 = Encoding.UTF8.GetBytes(path + "\0");
        byte* native = (byte*)NativeMemory.Alloc((nuint)utf8.Length);
        try
        {
            utf8.CopyTo(new Span<byte>(native, utf8.Length));
            using IoBackend backend = Create(8);

            backend.Submit(IoOperation.OpenAt(Files.AT_FDCWD, (nint)native, Files.O_RDONLY | Files.O_CLOEXEC, 0, 1));
            int fd = Await(backend, 1);
            Assert.That(fd, Is.GreaterThanOrEqualTo(0), $"openat failed with errno {-fd}");

            backend.Submit(IoOperation.Close(fd, 2));
            Assert.That(Await(backend, 2), Is.Zero);
            Assert.That(Libc.fcntl(fd, Files.F_GETFL, 0), Is.EqualTo(-1), "the descriptor is closed");
        }
        finally
        {
            NativeMemory.Free(native);
            File.Delete(path);
        }
    }

    [Test]
    public void A_connection_is_accepted_connected_and_carries_bytes_both_ways_on_loopback()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        listener.Blocking = false;
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
        sockaddr_in* address = Loopback(((IPEndPoint)listener.LocalEndPoint!).Port);
        byte* buffer = (byte*)NativeMemory.AllocZeroed(128);
        int accepted = -1;
        try
        {
            using IoBackend backend = Create(8);
            backend.Submit(IoOperation.Accept((int)listener.Handle, 0, 0, Sockets.SOCK_CLOEXEC, 1));
            backend.Submit(IoOperation.Connect((int)client.Handle, (nint)address, sizeof(sockaddr_in), 2));
            Dictionary<ulong, int> results = AwaitAll(backend, 1, 2);
            accepted = results[1];
            Assert.That(accepted, Is.GreaterThanOrEqualTo(0), $"accept failed with errno {-accepted}");
            Assert.That(results[2], Is.Zero, "connect");

            "ping"u8.CopyTo(new Span<byte>(buffer, 4));
            backend.Submit(IoOperation.Receive(accepted, (nint)(buffer + 64), 64, 0, 3));
            backend.Submit(IoOperation.Send((int)client.Handle, (nint)buffer, 4, 0, 4));
            results = AwaitAll(backend, 3, 4);
            Assert.That(results[4], Is.EqualTo(4), "send");
            Assert.That(results[3], Is.EqualTo(4), "receive");
            Assert.That(Encoding.ASCII.GetString(buffer + 64, 4), Is.EqualTo("ping"));

            "pong"u8.CopyTo(new Span<byte>(buffer, 4));
            backend.Submit(IoOperation.Send(accepted, (nint)buffer, 4, 0, 5));
            backend.Submit(IoOperation.Receive((int)client.Handle, (nint)(buffer + 64), 64, 0, 6));
            results = AwaitAll(backend, 5, 6);
            Assert.That(results[6], Is.EqualTo(4), "receive");
            Assert.That(Encoding.ASCII.GetString(buffer + 64, 4), Is.EqualTo("pong"));

            backend.Submit(IoOperation.Shutdown(accepted, 1, 7));
            backend.Submit(IoOperation.Receive((int)client.Handle, (nint)(buffer + 64), 64, 0, 8));
            results = AwaitAll(backend, 7, 8);
            Assert.That(results[7], Is.Zero, "shutdown");
            Assert.That(results[8], Is.Zero, "the peer's shutdown reads as end of stream");

            backend.Submit(IoOperation.Close(accepted, 9));
            Assert.That(Await(backend, 9), Is.Zero);
            accepted = -1;
        }
        finally
        {
            if (accepted >= 0)
            {
                _ = Libc.close(accepted);
            }

            NativeMemory.Free(buffer);
            NativeMemory.Free(address);
        }
    }

    [Test]
    public void Cancelling_a_waiting_receive_delivers_exactly_one_completion()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        using Socket server = listener.Accept();
        server.Blocking = false;
        byte* buffer = (byte*)NativeMemory.AllocZeroed(64);
        try
        {
            using IoBackend backend = Create(8);
            IoHandle handle = backend.Submit(IoOperation.Receive((int)server.Handle, (nint)buffer, 64, 0, 11));
            Span<IoCompletion> completions = stackalloc IoCompletion[4];
            Assert.That(backend.Poll(TimeSpan.Zero, completions), Is.Zero, "nothing was sent: the receive waits");

            backend.Cancel(handle);
            Assert.That(Await(backend, 11), Is.EqualTo(-Errno.ECANCELED));

            // Neither a second completion for the receive nor one for the cancel request comes later.
            Assert.That(backend.Poll(TimeSpan.FromMilliseconds(200), completions), Is.Zero);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    [Test]
    public void Options_out_of_range_are_refused_naming_the_option()
    {
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => IoBackend.Create(Backend, new IoBackendOptions { Entries = 0 }));

        Assert.That(refused!.Message, Does.Contain("IoBackendOptions.Entries"));
    }

    /// <summary>Polls until the operation with <paramref name="userData"/> completes; its result.</summary>
    private static int Await(IoBackend backend, ulong userData) => AwaitAll(backend, userData)[userData];

    /// <summary>Polls until every operation named completes (bounded by <see cref="Patience"/>); their results by
    /// user data. A completion nobody waits for fails the test.</summary>
    private static Dictionary<ulong, int> AwaitAll(IoBackend backend, params ulong[] userData)
    {
        var results = new Dictionary<ulong, int>();
        var completions = new IoCompletion[8];
        DateTime deadline = DateTime.UtcNow + Patience;
        while (results.Count < userData.Length && DateTime.UtcNow < deadline)
        {
            int count = backend.Poll(TimeSpan.FromMilliseconds(100), completions);
            for (int i = 0; i < count; i++)
            {
                Assert.That(userData, Does.Contain(completions[i].UserData), $"unexpected completion {completions[i]}");
                Assert.That(results.TryAdd(completions[i].UserData, completions[i].Result), Is.True, $"completion {completions[i].UserData} delivered twice");
            }
        }

        Assert.That(results.Keys, Is.EquivalentTo(userData), "operations still in flight after the patience ran out");
        return results;
    }

    private static sockaddr_in* Loopback(int port)
    {
        var address = (sockaddr_in*)NativeMemory.AllocZeroed((nuint)sizeof(sockaddr_in));
        address->sin_family = (ushort)Sockets.AF_INET;
        address->sin_port = (ushort)IPAddress.HostToNetworkOrder((short)port);
        address->sin_addr.s_addr = (uint)IPAddress.HostToNetworkOrder(0x7F000001);
        return address;
    }
}
