using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.Storage;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Storage.StorageTestSupport;
using LinuxFiles = Miniss.Bindings.Linux.Files;

namespace Miniss.Runtime.Tests.IO;

/// <summary>Bad input and failed operations: the exception type, what it carries (errno, its name, the operation,
/// the path), and that nothing leaks.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class IoErrorTests(IoBackendKind backend) : BackendFixture(backend)
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = CreateTempDirectory("miniss-errors");

    [TearDown]
    public void TearDown() => DeleteDirectory(_directory);

    private string FilePath(string name = "data") => Path.Combine(_directory, name);

    [Test, CancelAfter(20_000)]
    public async Task A_negative_offset_throws_ArgumentOutOfRangeException_for_every_file_operation()
    {
        string path = FilePath();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception?[] errors = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Create);
            byte[] buffer = new byte[16];
            return new[]
            {
                await CaptureAtCall(() => file.ReadAsync(-1, buffer)),
                await CaptureAtCall(() => file.WriteAsync(-1, buffer)),
                await Capture(() => file.WriteAllAsync(-1, buffer)),
                await Capture(() => file.ReadAsync(-1, new Memory<byte>[] { buffer })),
                await Capture(() => file.WriteAsync(-1, new ReadOnlyMemory<byte>[] { buffer })),
                await Capture(() => file.AllocateAsync(-1, 100)),
            };
        }).Within(15);

        Assert.That(errors, Is.All.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(new FileInfo(path).Length, Is.Zero);
    }

    [Test, CancelAfter(20_000)]
    public async Task Read_and_write_on_a_disposed_file_throw_ObjectDisposedException()
    {
        string path = FilePath();
        await File.WriteAllTextAsync(path, "content");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception?[] errors = await runtime.SubmitTo(1, async () =>
        {
            BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open);
            await file.DisposeAsync();
            byte[] buffer = new byte[16];
            return new[]
            {
                await Capture(() => file.ReadAsync(0, buffer)),
                await Capture(() => file.WriteAsync(0, buffer)),
                await Capture(() => file.ReadAsync(0, new Memory<byte>[] { buffer })),
                await Capture(() => file.WriteAsync(0, new ReadOnlyMemory<byte>[] { buffer })),
                await Capture(() => file.FlushAsync()),
                await Capture(() => file.FlushDataAsync()),
                await Capture(() => file.AllocateAsync(0, 100)),
            };
        }).Within(15);

        Assert.That(errors, Is.All.InstanceOf<ObjectDisposedException>());
        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo("content"));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_descriptor_number_that_is_not_open_fails_with_EBADF_as_UnauthorizedAccessException()
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(0, async () =>
        {
            var handle = new FileDescriptorHandle(100_000);
            try
            {
                return await Capture(() => IoOperations.ReadAsync(handle, new byte[8], 0));
            }
            finally
            {
                handle.SetHandleAsInvalid();
            }
        }).Within(15);

        // .NET's own file APIs report EBADF (a descriptor that is not open, or not open for this access) this way.
        Assert.That(error, Is.TypeOf<UnauthorizedAccessException>());
        Assert.That(error!.Data["errno"], Is.EqualTo(Errno.EBADF));
        Assert.That(error.Data["errno.name"], Is.EqualTo("EBADF"));
        Assert.That(error.Data["operation"], Is.EqualTo("read"));
        Assert.That(error.HResult, Is.EqualTo(Errno.EBADF));
    }

    [Test, CancelAfter(20_000)]
    public async Task An_invalid_handle_of_minus_one_is_refused_before_submission()
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (bool invalid, Exception? error, bool closedAfter) = await runtime.SubmitTo(1, async () =>
        {
            using var handle = new FileDescriptorHandle(-1);
            Exception? e = await Capture(() => IoOperations.WriteAsync(handle, new byte[8], 0));
            return (handle.IsInvalid, e, handle.IsClosed);
        }).Within(15);

        Assert.That(invalid, Is.True);
        Assert.That(error, Is.TypeOf<ArgumentException>());
        Assert.That(closedAfter, Is.False, "the refused operation took no reference and closed nothing");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_closed_handle_is_refused_before_submission_with_ObjectDisposedException()
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? error, long completionsBefore, long completionsAfter) = await runtime.SubmitTo(0, async () =>
        {
            (FileDescriptorHandle read, FileDescriptorHandle write) = CreatePipe();
            write.Dispose();
            read.Dispose();
            long before = Shard.Current!.Statistics.IoCompletions;
            Exception? e = await Capture(() => IoOperations.ReadAsync(read, new byte[8], 0));
            return (e, before, Shard.Current!.Statistics.IoCompletions);
        }).Within(15);

        Assert.That(error, Is.InstanceOf<ObjectDisposedException>());
        Assert.That(completionsAfter, Is.EqualTo(completionsBefore), "the operation never reached the kernel");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_disposed_buffer_is_refused_before_submission_and_the_file_stays_usable()
    {
        string path = FilePath();
        await File.WriteAllBytesAsync(path, RandomBytes(4096, 3));
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? error, long completionsBefore, long completionsAfter, int next) = await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open);
            var buffer = new AlignedBuffer(4096);
            Memory<byte> memory = buffer.Memory;
            ((IDisposable)buffer).Dispose();
            long before = Shard.Current!.Statistics.IoCompletions;
            Exception? e = await Capture(() => file.ReadAsync(0, memory));
            long after = Shard.Current!.Statistics.IoCompletions;
            return (e, before, after, await file.ReadAsync(0, new byte[4096]));
        }).Within(15);

        Assert.That(error, Is.InstanceOf<ObjectDisposedException>());
        Assert.That(completionsAfter, Is.EqualTo(completionsBefore), "the operation never reached the kernel");
        Assert.That(next, Is.EqualTo(4096), "the file's reference was released: it still works");
    }

    [Test, CancelAfter(20_000)]
    public async Task Opening_a_missing_path_throws_FileNotFoundException_with_the_path_and_ENOENT()
    {
        string missing = FilePath("no-such-file");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? buffered, Exception? dma, Exception? raw) = await runtime.SubmitTo(1, async () => (
            await Capture(async () => { await using BufferedFile f = await BufferedFile.OpenAsync(missing, FileMode.Open); }),
            await Capture(async () => { await using DmaFile f = await DmaFile.OpenAsync(missing, FileMode.Open); }),
            await Capture(() => IoOperations.OpenAtAsync(LinuxFiles.AT_FDCWD, missing, LinuxFiles.O_RDONLY | LinuxFiles.O_CLOEXEC, 0)))).Within(15);

        foreach (Exception? error in new[] { buffered, dma, raw })
        {
            Assert.That(error, Is.TypeOf<FileNotFoundException>());
            Assert.That(((FileNotFoundException)error!).FileName, Is.EqualTo(missing));
            Assert.That(error.Message, Does.Contain(missing).And.Contain("ENOENT"));
            Assert.That(error.Data["errno"], Is.EqualTo(Errno.ENOENT));
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task A_path_through_a_missing_directory_throws_with_ENOENT_and_through_a_file_with_ENOTDIR()
    {
        string file = FilePath("plain");
        await File.WriteAllTextAsync(file, "x");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? missingDirectory, Exception? notADirectory) = await runtime.SubmitTo(0, async () => (
            await Capture(async () => { await using BufferedFile f = await BufferedFile.OpenAsync(FilePath("nope/inner"), FileMode.Create); }),
            await Capture(async () => { await using BufferedFile f = await BufferedFile.OpenAsync(Path.Combine(file, "inner"), FileMode.Create); }))).Within(15);

        Assert.That(missingDirectory, Is.TypeOf<FileNotFoundException>());
        Assert.That(missingDirectory!.Data["errno"], Is.EqualTo(Errno.ENOENT));
        Assert.That(notADirectory, Is.TypeOf<DirectoryNotFoundException>());
        Assert.That(notADirectory!.Data["errno"], Is.EqualTo(Errno.ENOTDIR));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_failed_open_carries_errno_its_name_the_operation_and_the_path()
    {
        // Opening a directory for writing fails with EISDIR, even for root.
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(0, () => Capture(async () =>
        {
            await using BufferedFile f = await BufferedFile.OpenAsync(_directory, FileMode.Open, FileAccess.ReadWrite);
        })).Within(15);

        Assert.That(error, Is.TypeOf<IOException>());
        Assert.That(error!.Data["errno"], Is.EqualTo(Errno.EISDIR));
        Assert.That(error.Data["errno.name"], Is.EqualTo("EISDIR"));
        Assert.That(error.Data["operation"], Is.EqualTo("openat"));
        Assert.That(error.HResult, Is.EqualTo(Errno.EISDIR));
        Assert.That(error.Message, Does.StartWith($"openat '{_directory}' failed: EISDIR"));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_failed_read_carries_errno_its_name_the_operation_and_the_files_path()
    {
        // A directory opens read-only, but reading it fails with EISDIR.
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile directory = await BufferedFile.OpenAsync(_directory, FileMode.Open, FileAccess.Read);
            return await Capture(() => directory.ReadAsync(0, new byte[16]));
        }).Within(15);

        Assert.That(error, Is.TypeOf<IOException>());
        Assert.That(error!.Data["errno"], Is.EqualTo(Errno.EISDIR));
        Assert.That(error.Data["errno.name"], Is.EqualTo("EISDIR"));
        Assert.That(error.Data["operation"], Is.EqualTo("read"));
        Assert.That(error.Message, Does.Contain("read").And.Contain(_directory).And.Contain("EISDIR"));
    }

    [Test, CancelAfter(20_000)]
    public async Task Permission_denied_even_for_root_throws_UnauthorizedAccessException_with_EACCES()
    {
        // Root bypasses permission bits, so a mode-0 directory would not do: sysfs refuses to create files for anyone.
        const string path = "/sys/miniss-cannot-create";
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(0, () => Capture(async () =>
        {
            await using BufferedFile f = await BufferedFile.OpenAsync(path, FileMode.Create);
        })).Within(15);

        Assert.That(error, Is.TypeOf<UnauthorizedAccessException>());
        Assert.That(error!.Data["errno"], Is.EqualTo(Errno.EACCES));
        Assert.That(error.Data["errno.name"], Is.EqualTo("EACCES"));
        Assert.That(error.Data["operation"], Is.EqualTo("openat"));
        Assert.That(error.HResult, Is.EqualTo(Errno.EACCES));
        Assert.That(error.Message, Does.Contain(path).And.Contain("EACCES"));
    }

    [Test, CancelAfter(20_000)]
    public async Task Awaiting_an_operation_twice_throws_InvalidOperationException_naming_a_stale_ValueTask()
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int first, Exception? second, int next) = await runtime.SubmitTo(1, async () =>
        {
            ValueTask<int> operation = IoOperations.NopAsync();
            int r = await operation;
            Exception? e = await Capture(async () => await operation);
            int n = await IoOperations.NopAsync();
            return (r, e, n);
        }).Within(15);

        Assert.That(first, Is.Zero);
        Assert.That(second, Is.TypeOf<InvalidOperationException>());
        Assert.That(second!.Message, Does.Contain("stale"));
        Assert.That(next, Is.Zero, "the runtime keeps working");
    }

    [Test, CancelAfter(20_000)]
    public async Task Awaiting_a_reused_operation_handle_throws_InvalidOperationException_and_leaves_the_new_operation_alone()
    {
        (FileDescriptorHandle read, FileDescriptorHandle write) = CreatePipe();
        using var _ = read;
        using var __ = write;
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? stale, int reused) = await runtime.SubmitTo(0, async () =>
        {
            ValueTask<int> old = IoOperations.NopAsync();
            await old;
            // The pooled operation object now serves this read.
            ValueTask<int> current = IoOperations.ReadAsync(read, new byte[4], 0);
            Exception? e = await Capture(async () => await old);
            WriteTo(write, "abc"u8);
            return (e, await current);
        }).Within(15);

        Assert.That(stale, Is.TypeOf<InvalidOperationException>());
        Assert.That(stale!.Message, Does.Contain("stale"));
        Assert.That(reused, Is.EqualTo(3));
    }

    [Test, CancelAfter(20_000)]
    public async Task An_operation_called_off_a_shard_throws_InvalidOperationException()
    {
        string path = FilePath();
        await File.WriteAllTextAsync(path, "x");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;
        BufferedFile file = await runtime.SubmitTo(0, () => BufferedFile.OpenAsync(path, FileMode.Open)).Within(15);
        try
        {
            Exception? nop = await CaptureAtCall(() => IoOperations.NopAsync());
            Exception? read = await CaptureAtCall(() => file.ReadAsync(0, new byte[1]));
            Exception? open = await Capture(() => BufferedFile.OpenAsync(path, FileMode.Open));
            Exception? shardNop = await CaptureAtCall(() => runtime[0].NopAsync());

            Assert.That(nop, Is.TypeOf<InvalidOperationException>());
            Assert.That(nop!.Message, Does.Contain("SubmitTo"));
            Assert.That(read, Is.TypeOf<InvalidOperationException>());
            Assert.That(open, Is.TypeOf<InvalidOperationException>());
            Assert.That(shardNop, Is.TypeOf<InvalidOperationException>());
        }
        finally
        {
            await file.DisposeAsync();
        }
    }

    [Test, CancelAfter(20_000)]
    public async Task Shard_NopAsync_called_on_another_shard_throws_InvalidOperationException()
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(1, () => CaptureAtCall(() => runtime[0].NopAsync())).Within(15);

        Assert.That(error, Is.TypeOf<InvalidOperationException>());
        Assert.That(error!.Message, Does.Contain("shard 0"));
    }

    [Test, CancelAfter(30_000)]
    public async Task Failures_leak_no_descriptors_and_leave_nothing_in_flight()
    {
        string existing = FilePath("existing");
        await File.WriteAllTextAsync(existing, "x");
        string missing = FilePath("missing");
        MinissRuntime runtime = MinissRuntime.Start(RuntimeScope.Options());
        int before = -1, after = -1;
        string leaked = string.Empty;
        try
        {
            async ValueTask RunFailures(int rounds)
            {
                for (int i = 0; i < rounds; i++)
                {
                    await Capture(async () => { await using BufferedFile f = await BufferedFile.OpenAsync(missing, FileMode.Open); });
                    await Capture(async () => { await using BufferedFile f = await BufferedFile.OpenAsync(existing, FileMode.CreateNew); });
                    await Capture(async () => { await using BufferedFile f = await BufferedFile.OpenAsync(_directory, FileMode.Open); });
                    await Capture(async () => { await using DmaFile f = await DmaFile.OpenAsync(missing, FileMode.Open); });
                    await using BufferedFile directory = await BufferedFile.OpenAsync(_directory, FileMode.Open, FileAccess.Read);
                    await Capture(() => directory.ReadAsync(0, new byte[8]));
                    BufferedFile disposed = await BufferedFile.OpenAsync(existing, FileMode.Open);
                    disposed.Dispose();
                    await Capture(() => disposed.ReadAsync(0, new byte[8]));
                    await CaptureAtCall(() => disposed.ReadAsync(-1, new byte[8]));
                    using var stale = new FileDescriptorHandle(100_000);
                    await Capture(() => IoOperations.ReadAsync(stale, new byte[8], 0));
                    stale.SetHandleAsInvalid();
                }
            }

            await runtime.SubmitTo(0, () => RunFailures(5)).Within(15);
            before = OpenDescriptorCount();
            var descriptors = OpenDescriptors();
            await Task.WhenAll(runtime.SubmitTo(0, () => RunFailures(200)).AsTask(), runtime.SubmitTo(1, () => RunFailures(200)).AsTask()).Within(20);
            after = await SettledDescriptorCount(before);
            leaked = NewDescriptors(descriptors);
        }
        finally
        {
            var clock = Stopwatch.StartNew();
            await runtime.StopAsync().Within(10);
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "nothing was left in flight");
        }

        // A leak is a descriptor that was not there before; one that an earlier test's object closes meanwhile is not.
        Assert.That(leaked, Is.Empty, $"descriptors leaked ({before} open before, {after} after)");
    }
}
