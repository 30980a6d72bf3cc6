using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;
using Miniss.Bindings.Linux;
using Miniss.Buffers;
using Miniss.IO;
using Miniss.IO.Uring;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Buffers.Pools;
using LinuxFiles = Miniss.Bindings.Linux.Files;

namespace Miniss.Runtime.Tests.Buffers;

/// <summary>
/// The pool's region registered with io_uring as fixed buffers, one per 1 MiB chunk. These tests make no await
/// between creating a ring and registering with it: the ring is single-issuer, so both must happen on one thread.
/// </summary>
[TestFixture]
[Platform("Linux")]
public sealed class RegistrationTests
{
    [Test, CancelAfter(10000)]
    public void The_region_registers_with_a_ring_as_one_fixed_buffer_per_MiB()
    {
        using IoUringBackend backend = IoUringBackend.Create(8, 16, IoUringBackend.DefaultFlags);
        using BufferPool pool = Create(4 * MiB);

        bool registered = pool.TryRegister(backend.Fd, out string? reason);

        Assert.That(registered, Is.True, reason);
        Assert.That(reason, Is.Null);
        Assert.That(pool.FixedBufferCount, Is.EqualTo(4));
    }

    [Test, CancelAfter(10000)]
    public void A_region_smaller_than_a_chunk_registers_as_one_fixed_buffer()
    {
        using IoUringBackend backend = IoUringBackend.Create(8, 16, IoUringBackend.DefaultFlags);
        using BufferPool pool = Create(256 * KiB, 4 * KiB, 64 * KiB);

        Assert.That(pool.TryRegister(backend.Fd, out string? reason), Is.True, reason);
        Assert.That(pool.FixedBufferCount, Is.EqualTo(1));
        Assert.That(pool.FixedBufferIndex(pool.Take(64 * KiB)), Is.Zero);
    }

    [Test, CancelAfter(10000)]
    public void The_fixed_index_of_a_buffer_is_the_MiB_chunk_it_lies_in()
    {
        using IoUringBackend backend = IoUringBackend.Create(8, 16, IoUringBackend.DefaultFlags);
        using BufferPool pool = Create(4 * MiB);
        Assume.That(pool.TryRegister(backend.Fd, out string? reason), Is.True, reason);

        BufferHandle[] large = Enumerable.Range(0, 4).Select(_ => pool.Take(MiB)).ToArray();

        Assert.That(large.Select(b => (int)pool.FixedBufferIndex(b)).Order(), Is.EqualTo(new[] { 0, 1, 2, 3 }));
    }

    [Test, CancelAfter(10000)]
    public void A_buffer_writes_and_reads_through_its_fixed_index()
    {
        string path = Path.GetTempFileName();
        try
        {
            using IoUringBackend backend = IoUringBackend.Create(8, 16, IoUringBackend.DefaultFlags);
            using BufferPool pool = Create(4 * MiB);
            Assume.That(pool.TryRegister(backend.Fd, out string? reason), Is.True, reason);
            using SafeFileHandle file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite);
            pool.Take(4 * KiB);
            BufferHandle source = pool.Take(600 * KiB); // a 1 MiB buffer after a 4 KiB one: the second chunk, index 1
            BufferHandle target = pool.Take(600 * KiB);
            for (int i = 0; i < source.Size; i++)
            {
                source.Span[i] = (byte)(i % 251);
            }

            int written = Run(backend, IoUring.IORING_OP_WRITE_FIXED, (int)file.DangerousGetHandle(), source, pool.FixedBufferIndex(source));
            int read = Run(backend, IoUring.IORING_OP_READ_FIXED, (int)file.DangerousGetHandle(), target, pool.FixedBufferIndex(target));

            Assert.That(pool.FixedBufferIndex(source), Is.EqualTo(1));
            Assert.That(pool.FixedBufferIndex(target), Is.EqualTo(2));
            Assert.That(written, Is.EqualTo(source.Size));
            Assert.That(read, Is.EqualTo(target.Size));
            Assert.That(target.Span.SequenceEqual(source.Span), Is.True);
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(source.Span.ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test, CancelAfter(20000)]
    public async Task A_pool_registers_with_its_shards_ring_on_that_shard(CancellationToken token)
    {
        // The shards' own pools stay unregistered here: a ring holds one fixed-buffer table.
        await using var scope = RuntimeScope.Start(registerShardPools: false);

        (bool registered, string? reason, bool unregistered, string? unregisterReason) = await scope.Runtime.SubmitTo(0, () =>
        {
            using var pool = new BufferPool(Config(4 * MiB));
            int ring = Shard.Current!.Ring.Fd;
            bool registered = pool.TryRegister(ring, out string? reason);
            bool unregistered = pool.TryUnregister(ring, out string? unregisterReason);
            return (registered, reason, unregistered, unregisterReason);
        }).Within(token);

        Assert.That(registered, Is.True, reason);
        Assert.That(unregistered, Is.True, unregisterReason);
    }

    [Test, CancelAfter(10000)]
    public async Task Each_shard_registers_its_own_pool_with_its_ring_at_start(CancellationToken token)
    {
        await using var scope = RuntimeScope.Start();

        bool[] registered = await scope.Runtime.InvokeOnAll(() => Shard.Current!.HasFixedBuffers && Shard.Current.Buffers.RegisteredRingFd == Shard.Current.Ring.Fd)
            .AsTask().WaitAsync(token);

        Assert.That(registered, Is.All.True);
    }

    [Test, CancelAfter(10000)]
    public void Registering_off_the_rings_thread_explains_the_single_issuer_rule()
    {
        using IoUringBackend backend = IoUringBackend.Create(8, 16, IoUringBackend.DefaultFlags);
        Assume.That(backend.SetupFlags & IoUring.IORING_SETUP_SINGLE_ISSUER, Is.Not.Zero, "the kernel refused SINGLE_ISSUER");
        using BufferPool pool = Create(MiB);

        (bool registered, string? reason) = Task.Factory.StartNew(
            () => (pool.TryRegister(backend.Fd, out string? why), why),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Result;

        Assert.That(registered, Is.False);
        Assert.That(reason, Does.Contain("thread that created it"));
    }

    [Test, CancelAfter(10000)]
    public void Registering_twice_with_one_ring_is_refused_with_a_reason()
    {
        using IoUringBackend backend = IoUringBackend.Create(8, 16, IoUringBackend.DefaultFlags);
        using BufferPool pool = Create(MiB);
        using BufferPool other = Create(MiB);
        Assume.That(pool.TryRegister(backend.Fd, out string? first), Is.True, first);

        bool registered = other.TryRegister(backend.Fd, out string? reason);

        Assert.That(registered, Is.False);
        Assert.That(reason, Does.Contain("already has fixed buffers"));
    }

    [Test, CancelAfter(10000)]
    public void Registering_with_a_descriptor_that_is_no_ring_fails_with_its_errno()
    {
        using BufferPool pool = Create(MiB);
        using SafeFileHandle file = File.OpenHandle(Path.GetTempFileName(), FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.DeleteOnClose);

        bool registered = pool.TryRegister((int)file.DangerousGetHandle(), out string? reason);

        Assert.That(registered, Is.False);
        Assert.That(reason, Does.StartWith("io_uring_register(IORING_REGISTER_BUFFERS) failed: E"));
    }

    [Test, CancelAfter(10000)]
    public void The_fixed_index_of_an_unregistered_pool_throws()
    {
        using BufferPool pool = Create(MiB);
        BufferHandle buffer = pool.Take(4 * KiB);

        Assert.Throws<InvalidOperationException>(() => pool.FixedBufferIndex(buffer));
    }

    [Test, CancelAfter(10000)]
    public void The_memlock_limit_is_read_from_the_process()
    {
        ulong limit = MemlockLimit.Current();

        Assert.That(limit, Is.Positive);
    }

    [TestCase(64L * MiB, 8UL * MiB, false)]
    [TestCase(8L * MiB, 8UL * MiB, true)]
    [TestCase(1L << 40, LinuxFiles.RLIM_INFINITY, true)]
    [CancelAfter(10000)]
    public void A_region_fits_the_memlock_limit_when_it_is_no_larger(long region, ulong limit, bool fits)
    {
        Assert.That(MemlockLimit.Allows(region, limit), Is.EqualTo(fits));
    }

    [Test, CancelAfter(10000)]
    public void A_region_over_the_memlock_limit_is_explained_with_the_limit_and_how_to_raise_it()
    {
        string reason = MemlockLimit.ExplainRegistrationFailure(Errno.ENOMEM, 64L * MiB, 8UL * MiB);

        Assert.That(reason, Does.Contain("64 MiB"));
        Assert.That(reason, Does.Contain("RLIMIT_MEMLOCK allows this process to lock only 8 MiB"));
        Assert.That(reason, Does.Contain("ENOMEM"));
        Assert.That(reason, Does.Contain("ulimit -l 65536"));
        Assert.That(reason, Does.Contain("LimitMEMLOCK=65536K"));
        Assert.That(reason, Does.Contain("CAP_IPC_LOCK"));
    }

    [Test, CancelAfter(10000)]
    public void A_region_under_the_limit_that_still_fails_blames_memory_locked_elsewhere()
    {
        string reason = MemlockLimit.ExplainRegistrationFailure(Errno.ENOMEM, 4L * MiB, 8UL * MiB);

        Assert.That(reason, Does.Contain("already locked"));
        Assert.That(reason, Does.Contain("ulimit -l"));
    }

    private static unsafe int Run(IoUringBackend backend, byte opcode, int fd, BufferHandle buffer, ushort index)
    {
        io_uring_sqe* sqe = backend.NextSqe();
        sqe->opcode = opcode;
        sqe->fd = fd;
        sqe->addr = (ulong)buffer.Address;
        sqe->len = (uint)buffer.Size;
        sqe->off = 0;
        sqe->buf_index = index;
        sqe->user_data = 77;

        Span<IoCompletion> completions = stackalloc IoCompletion[1];
        int count = backend.Poll(TimeSpan.FromSeconds(5), completions);
        Assert.That(count, Is.EqualTo(1), "the operation did not complete");
        Assert.That(completions[0].UserData, Is.EqualTo(77UL));
        return completions[0].Result;
    }
}
