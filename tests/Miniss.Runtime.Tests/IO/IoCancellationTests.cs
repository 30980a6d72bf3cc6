using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.Runtime.Tests.Storage;
using Miniss.Storage;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Storage.StorageTestSupport;

namespace Miniss.Runtime.Tests.IO;

/// <summary>Cancellation of raw operations: before the call, while the kernel holds the operation (a read on an empty
/// pipe or eventfd), after completion; timeouts; cancelling an unknown operation.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class IoCancellationTests(IoBackendKind backend) : BackendFixture(backend)
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = CreateTempDirectory("miniss-cancel");

    [TearDown]
    public void TearDown() => DeleteDirectory(_directory);

    [Test, CancelAfter(20_000)]
    public async Task A_token_cancelled_before_the_call_throws_OperationCanceledException_at_once_and_pins_nothing()
    {
        (FileDescriptorHandle read, FileDescriptorHandle write) = CreatePipe();
        using var _ = read;
        using var __ = write;
        using var memory = new TrackedMemory(16);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (bool completedAtOnce, bool canceled, Exception? error, int pins) = await runtime.SubmitTo(0, async () =>
        {
            using var cts = new CancellationTokenSource();
            cts.Cancel();
            ValueTask<int> pending = IoOperations.ReadAsync(read, memory.Memory, 0, cts.Token);
            bool atOnce = pending.IsCompleted;
            bool isCanceled = pending.IsCanceled;
            Exception? e = await Capture(() => pending);
            return (atOnce, isCanceled, e, memory.Pins);
        }).Within(15);

        Assert.That(completedAtOnce, Is.True);
        Assert.That(canceled, Is.True);
        Assert.That(error, Is.InstanceOf<OperationCanceledException>());
        Assert.That(pins, Is.Zero, "nothing was handed to the kernel");
        Assert.That(memory.Unpins, Is.Zero);
    }

    [Test, CancelAfter(20_000)]
    public async Task A_token_cancelled_before_a_file_open_throws_OperationCanceledException_and_creates_nothing()
    {
        string path = Path.Combine(_directory, "never");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(1, () => Capture(async () =>
        {
            using var cts = new CancellationTokenSource();
            cts.Cancel();
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.CreateNew, cancellationToken: cts.Token);
        })).Within(15);

        Assert.That(error, Is.InstanceOf<OperationCanceledException>());
        Assert.That(File.Exists(path), Is.False);
    }

    [Test, CancelAfter(20_000)]
    public async Task Cancelling_a_blocked_pipe_read_throws_OperationCanceledException_promptly()
    {
        (FileDescriptorHandle read, FileDescriptorHandle write) = CreatePipe();
        using var _ = read;
        using var __ = write;
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? error, TimeSpan took) = await runtime.SubmitTo(0, async () =>
        {
            using var cts = new CancellationTokenSource();
            byte[] buffer = new byte[64];
            ValueTask<int> pending = IoOperations.ReadAsync(read, buffer, 0, cts.Token);
            await IoOperations.TimeoutAsync(TimeSpan.FromMilliseconds(20));
            bool stillPending = !pending.IsCompleted;
            var clock = Stopwatch.StartNew();
            cts.Cancel();
            Exception? e = await Capture(() => pending);
            if (e is OperationCanceledException cancelled && cancelled.CancellationToken != cts.Token)
            {
                e = new InvalidOperationException("the OperationCanceledException does not carry the token that cancelled the read", e);
            }

            return (stillPending ? e : new InvalidOperationException("the read completed before it was cancelled"), clock.Elapsed);
        }).Within(15);

        Assert.That(error, Is.InstanceOf<OperationCanceledException>());
        Assert.That(took, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_cancelled_read_keeps_its_buffer_pinned_until_the_await_completes_and_consumes_no_data()
    {
        (FileDescriptorHandle read, FileDescriptorHandle write) = CreatePipe();
        using var _ = read;
        using var __ = write;
        using var memory = new TrackedMemory(64);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int pinsAfterCancel, int unpinsAfterCancel, Exception? error, int pinsAfterAwait, int unpinsAfterAwait, byte[] afterward, int nextRead, byte[] nextData) =
            await runtime.SubmitTo(1, async () =>
            {
                using var cts = new CancellationTokenSource();
                ValueTask<int> pending = IoOperations.ReadAsync(read, memory.Memory, 0, cts.Token);
                await IoOperations.TimeoutAsync(TimeSpan.FromMilliseconds(20));
                cts.Cancel();
                int pinsCancelled = memory.Pins;
                int unpinsCancelled = memory.Unpins;
                Exception? e = await Capture(() => pending);
                int pinsAwaited = memory.Pins;
                int unpinsAwaited = memory.Unpins;

                // The kernel no longer owns the buffer: data written now goes to the next read, not to it.
                WriteTo(write, "after"u8);
                byte[] next = new byte[64];
                int n = await IoOperations.ReadAsync(read, next, 0);
                return (pinsCancelled, unpinsCancelled, e, pinsAwaited, unpinsAwaited, memory.GetSpan().ToArray(), n, next[..n]);
            }).Within(15);

        Assert.That(pinsAfterCancel, Is.EqualTo(1), "the buffer is the kernel's until the cancellation completes");
        Assert.That(unpinsAfterCancel, Is.Zero);
        Assert.That(error, Is.InstanceOf<OperationCanceledException>());
        Assert.That(pinsAfterAwait, Is.Zero);
        Assert.That(unpinsAfterAwait, Is.EqualTo(1));
        Assert.That(afterward, Is.All.EqualTo((byte)0), "the cancelled read wrote nothing");
        Assert.That(nextRead, Is.EqualTo(5));
        Assert.That(nextData, Is.EqualTo("after"u8.ToArray()));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_token_cancelled_from_another_thread_wakes_the_shard_and_cancels_the_read()
    {
        (FileDescriptorHandle read, FileDescriptorHandle write) = CreatePipe();
        using var _ = read;
        using var __ = write;
        using var cts = new CancellationTokenSource();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        ValueTask<Exception?> outcome = runtime.SubmitTo(0, () => Capture(() => IoOperations.ReadAsync(read, new byte[8], 0, cts.Token)));
        await Task.Delay(200);
        var clock = Stopwatch.StartNew();
        cts.Cancel();
        Exception? error = await outcome.Within(10);

        Assert.That(error, Is.InstanceOf<OperationCanceledException>());
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test, CancelAfter(20_000)]
    public async Task Cancelling_a_blocked_eventfd_read_throws_OperationCanceledException()
    {
        using FileDescriptorHandle eventFd = CreateEventFd();
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? error, int later) = await runtime.SubmitTo(1, async () =>
        {
            using var cts = new CancellationTokenSource();
            byte[] counter = new byte[8];
            ValueTask<int> pending = IoOperations.ReadAsync(eventFd, counter, 0, cts.Token);
            cts.CancelAfter(TimeSpan.FromMilliseconds(30));
            Exception? e = await Capture(() => pending);
            // The eventfd still works afterwards: a signalled counter is read by the next read.
            WriteTo(eventFd, BitConverter.GetBytes(3UL));
            int n = await IoOperations.ReadAsync(eventFd, counter, 0);
            return (e, n == 8 ? (int)BitConverter.ToUInt64(counter) : -n);
        }).Within(15);

        Assert.That(error, Is.InstanceOf<OperationCanceledException>());
        Assert.That(later, Is.EqualTo(3));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_token_cancelled_after_the_operation_completed_does_not_change_its_result()
    {
        string path = Path.Combine(_directory, "data");
        await File.WriteAllBytesAsync(path, RandomBytes(1000, 1));
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (bool completedBeforeCancel, int result, int next) = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
            using var cts = new CancellationTokenSource();
            byte[] buffer = new byte[1000];
            ValueTask<int> pending = IoOperations.ReadAsync(file.Handle, buffer, 0, cts.Token);
            // A readiness backend reads files on its pool, whose first thread may take a while to start.
            long giveUp = Environment.TickCount64 + 5_000;
            while (!pending.IsCompleted && Environment.TickCount64 < giveUp)
            {
                await IoOperations.NopAsync();
            }

            bool done = pending.IsCompleted;
            cts.Cancel();
            int r = await pending;
            // The operation object went back to the pool; the late cancellation must not reach the one that reuses it.
            await IoOperations.NopAsync();
            int n = await IoOperations.ReadAsync(file.Handle, buffer, 500);
            return (done, r, n);
        }).Within(15);

        Assert.That(completedBeforeCancel, Is.True);
        Assert.That(result, Is.EqualTo(1000));
        Assert.That(next, Is.EqualTo(500));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_cancellation_racing_a_completion_reports_exactly_one_consistent_outcome()
    {
        (FileDescriptorHandle read, FileDescriptorHandle write) = CreatePipe();
        using var _ = read;
        using var __ = write;
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        string[] problems = await runtime.SubmitTo(0, async () =>
        {
            var found = new System.Collections.Generic.List<string>();
            byte[] buffer = new byte[1];
            for (int i = 0; i < 200; i++)
            {
                WriteTo(write, new[] { (byte)i });
                using var cts = new CancellationTokenSource();
                ValueTask<int> pending = IoOperations.ReadAsync(read, buffer, 0, cts.Token);
                cts.Cancel();
                Exception? e = null;
                int n = -1;
                try
                {
                    n = await pending;
                }
                catch (Exception caught)
                {
                    e = caught;
                }

                if (e is null)
                {
                    if (n != 1 || buffer[0] != (byte)i)
                    {
                        found.Add($"{i}: completed with {n}, byte {buffer[0]}");
                    }
                }
                else if (e is not OperationCanceledException)
                {
                    found.Add($"{i}: {e.GetType().Name}: {e.Message}");
                }
                else
                {
                    // Cancelled: the byte is still in the pipe.
                    int again = await IoOperations.ReadAsync(read, buffer, 0);
                    if (again != 1 || buffer[0] != (byte)i)
                    {
                        found.Add($"{i}: cancelled, yet the byte was gone ({again}, {buffer[0]})");
                    }
                }
            }

            return found.ToArray();
        }).Within(15);

        Assert.That(problems, Is.Empty);
    }

    [Test, CancelAfter(20_000)]
    public async Task TimeoutAsync_completes_with_zero_after_its_delay()
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (int result, TimeSpan took) = await runtime.SubmitTo(1, async () =>
        {
            var clock = Stopwatch.StartNew();
            int r = await IoOperations.TimeoutAsync(TimeSpan.FromMilliseconds(100));
            return (r, clock.Elapsed);
        }).Within(15);

        Assert.That(result, Is.Zero);
        Assert.That(took, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(95)));
        Assert.That(took, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test, CancelAfter(20_000)]
    public async Task TimeoutAsync_with_a_zero_delay_completes_with_zero()
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        int[] results = await runtime.SubmitTo(0, async () => new[]
        {
            await IoOperations.TimeoutAsync(TimeSpan.Zero),
            await IoOperations.TimeoutAsync(TimeSpan.FromMilliseconds(-5)),
        }).Within(15);

        Assert.That(results, Is.EqualTo(new[] { 0, 0 }));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_cancelled_TimeoutAsync_throws_OperationCanceledException_before_its_delay()
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? error, TimeSpan took) = await runtime.SubmitTo(0, async () =>
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
            var clock = Stopwatch.StartNew();
            Exception? e = await Capture(() => IoOperations.TimeoutAsync(TimeSpan.FromSeconds(30), cts.Token));
            return (e, clock.Elapsed);
        }).Within(15);

        Assert.That(error, Is.InstanceOf<OperationCanceledException>());
        Assert.That(took, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test, CancelAfter(20_000)]
    public async Task AsyncCancelAsync_of_an_unknown_user_data_throws_with_ENOENT()
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(1, () => Capture(() => IoOperations.AsyncCancelAsync(0x7ABC_0000_BEEFUL))).Within(15);

        Assert.That(error, Is.TypeOf<IOException>());
        Assert.That(error!.Data["errno"], Is.EqualTo(Errno.ENOENT));
        Assert.That(error.Data["errno.name"], Is.EqualTo("ENOENT"));
        Assert.That(error.Data["operation"], Is.EqualTo("async_cancel"));
    }
}
