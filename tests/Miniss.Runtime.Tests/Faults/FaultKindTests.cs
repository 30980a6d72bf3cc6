using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.FaultInjection;
using Miniss.Net;
using Miniss.Storage;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Faults.FaultTestSupport;

namespace Miniss.Runtime.Tests.Faults;

/// <summary>One kind of engine fault at a time, on every backend: what the runtime must do when it strikes.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
[NonParallelizable]
public sealed class FaultKindTests(IoBackendKind backend) : BackendFixture(backend)
{
    private const int Seed = 1105;

    [Test, CancelAfter(60_000)]
    public async Task An_injected_error_fails_the_operation_with_that_errno(CancellationToken token)
    {
        var schedule = new FaultSchedule(Seed, 1, FaultKinds.ErrorResults, [Errno.EMFILE], [IoUring.IORING_OP_NOP]);
        var escaped = new ConcurrentQueue<string>();
        MinissRuntime runtime = Start(schedule, escaped);
        try
        {
            Exception? error = await runtime.SubmitTo(0, async () =>
            {
                try
                {
                    await Shard.Current!.NopAsync();
                    return null;
                }
                catch (Exception e)
                {
                    return e;
                }
            }).AsTask().WaitAsync(Ceiling, token);

            Assert.That(error, Is.InstanceOf<IOException>());
            Assert.That(error!.Data["errno"], Is.EqualTo(Errno.EMFILE));
        }
        finally
        {
            await StopAsync(runtime, token);
        }

        Assert.That(escaped, Is.Empty);
    }

    [Test, CancelAfter(60_000)]
    public async Task A_direct_file_whose_alignment_query_fails_leaves_no_descriptor_open(CancellationToken token)
    {
        var schedule = new FaultSchedule(Seed, 1, FaultKinds.ErrorResults, [Errno.ENOMEM], [IoUring.IORING_OP_STATX]);
        string directory = Storage.StorageTestSupport.CreateTempDirectory("miniss-faults");
        var escaped = new ConcurrentQueue<string>();
        MinissRuntime runtime = Start(schedule, escaped);
        try
        {
            Dictionary<string, string> before = OpenDescriptors();
            Exception? error = await runtime.SubmitTo(0, async () =>
            {
                try
                {
                    await using DmaFile file = await DmaFile.OpenAsync(Path.Combine(directory, "direct"), FileMode.Create);
                    return null;
                }
                catch (Exception e)
                {
                    return e;
                }
            }).AsTask().WaitAsync(Ceiling, token);

            Assert.That(error?.Data["errno"], Is.EqualTo(Errno.ENOMEM), "the open fails with the alignment query's error");
            Assert.That(NewDescriptors(before), Is.Empty, "the descriptor opened before the query failed is closed");
        }
        finally
        {
            await StopAsync(runtime, token);
            Storage.StorageTestSupport.DeleteDirectory(directory);
        }
    }

    [TestCase(Errno.EINTR)]
    [TestCase(Errno.EAGAIN)]
    [TestCase(Errno.ECONNRESET)]
    [TestCase(Errno.ECANCELED)]
    [CancelAfter(60_000)]
    public async Task Interrupted_reset_or_cancelled_accepts_are_retried_and_every_client_is_served(int errno, CancellationToken token)
    {
        // Every accept fails until three have: a multishot accept that works stays armed, so later ones are few.
        var schedule = new FaultSchedule(Seed, 1, FaultKinds.ErrorResults, [errno], [IoUring.IORING_OP_ACCEPT], limit: 3);
        var escaped = new ConcurrentQueue<string>();
        MinissRuntime runtime = Start(schedule, escaped);
        try
        {
            await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Loopback, 0), Net.NetTestSupport.Echo).AsTask().WaitAsync(Ceiling, token);
            for (int client = 0; client < 12; client++)
            {
                byte[] payload = Net.NetTestSupport.RandomBytes(1000, client);
                byte[] echoed = await runtime.SubmitTo(client % 2, async () =>
                {
                    await using ShardConnection connection = await ShardConnection.ConnectAsync(server.LocalEndPoint);
                    return await Net.NetTestSupport.RoundTripAsync(connection, payload);
                }).AsTask().WaitAsync(Ceiling, token);
                Net.NetTestSupport.AssertSameBytes(echoed, payload);
            }

            Assert.That(schedule.Injected(FaultKinds.ErrorResults), Is.EqualTo(3), "accepts were failed");
        }
        finally
        {
            await StopAsync(runtime, token);
        }

        Assert.That(escaped, Is.Empty, "a failed accept of these kinds is not reported as an unexpected failure");
    }

    [Test, CancelAfter(60_000)]
    public async Task Short_transfers_still_move_every_byte_of_files_and_connections(CancellationToken token)
    {
        var schedule = new FaultSchedule(Seed, 0.5, FaultKinds.ShortTransfers);
        string directory = Storage.StorageTestSupport.CreateTempDirectory("miniss-faults");
        var escaped = new ConcurrentQueue<string>();
        MinissRuntime runtime = Start(schedule, escaped);
        try
        {
            byte[] data = Net.NetTestSupport.RandomBytes(200_000, 3);
            byte[] fileBack = await runtime.SubmitTo(0, async () =>
            {
                await using BufferedFile file = await BufferedFile.OpenAsync(Path.Combine(directory, "short"), FileMode.Create);
                await file.WriteAllAsync(0, data);
                byte[] back = new byte[data.Length];
                int total = 0;
                int read;
                while (total < back.Length && (read = await file.ReadAsync(total, back.AsMemory(total))) > 0)
                {
                    total += read;
                }

                return back[..total];
            }).AsTask().WaitAsync(Ceiling, token);

            await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Loopback, 0), Net.NetTestSupport.Echo).AsTask().WaitAsync(Ceiling, token);
            byte[] echoed = await runtime.SubmitTo(1, async () =>
            {
                await using ShardConnection connection = await ShardConnection.ConnectAsync(server.LocalEndPoint);
                return await Net.NetTestSupport.RoundTripAsync(connection, data);
            }).AsTask().WaitAsync(Ceiling, token);

            Net.NetTestSupport.AssertSameBytes(fileBack, data);
            Net.NetTestSupport.AssertSameBytes(echoed, data);
            Assert.That(schedule.Injected(FaultKinds.ShortTransfers), Is.GreaterThan(0), "transfers were shortened");
        }
        finally
        {
            await StopAsync(runtime, token);
            Storage.StorageTestSupport.DeleteDirectory(directory);
        }

        Assert.That(escaped, Is.Empty);
    }

    [Test, CancelAfter(60_000)]
    public async Task Connections_come_and_go_while_the_submission_queue_is_often_full(CancellationToken token)
    {
        await ServesConnectionsUnder(new FaultSchedule(Seed, 0.5, FaultKinds.SubmissionQueueFull), token);
    }

    [Test, CancelAfter(60_000)]
    public async Task Completions_held_back_by_an_overflowing_completion_queue_are_all_delivered(CancellationToken token)
    {
        await ServesConnectionsUnder(new FaultSchedule(Seed, 0.2, FaultKinds.CompletionOverflow), token);
    }

    [Test, CancelAfter(60_000)]
    public async Task Work_goes_on_when_io_uring_enter_is_busy_or_interrupted(CancellationToken token)
    {
        await ServesConnectionsUnder(new FaultSchedule(Seed, 0.3, FaultKinds.EnterBusy | FaultKinds.EnterInterrupted), token);
    }

    [Test, CancelAfter(60_000)]
    public async Task Sleeping_shards_wake_up_when_eventfd_writes_fail(CancellationToken token)
    {
        var schedule = new FaultSchedule(Seed, 0.5, FaultKinds.EventFdFailure);
        var escaped = new ConcurrentQueue<string>();
        MinissRuntime runtime = Start(schedule, escaped);
        try
        {
            for (int call = 0; call < 300; call++)
            {
                // Give the shard time to fall asleep, so the call has to wake it through its eventfd.
                await Task.Delay(1, token);
                int shard = call % 2;
                int ranOn = await runtime.SubmitTo(shard, () => Shard.Current!.Id).AsTask().WaitAsync(Ceiling, token);
                Assert.That(ranOn, Is.EqualTo(shard));
            }

            Assert.That(schedule.Injected(FaultKinds.EventFdFailure), Is.GreaterThan(0), "eventfd writes were failed");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"a shard slept through a call after a failed eventfd write ({Describe(schedule)})");
        }
        finally
        {
            await StopAsync(runtime, token);
        }

        Assert.That(escaped, Is.Empty);
    }

    /// <summary>Connections opened, used and closed one after the other (so descriptor numbers come back), timers and
    /// cross-shard calls, under <paramref name="schedule"/>: everything completes, correctly.</summary>
    private static async Task ServesConnectionsUnder(FaultSchedule schedule, CancellationToken token)
    {
        var escaped = new ConcurrentQueue<string>();
        MinissRuntime runtime = Start(schedule, escaped);
        try
        {
            await using ShardServer server = await ShardServer.StartAsync(runtime, new IPEndPoint(IPAddress.Loopback, 0), Net.NetTestSupport.Echo).AsTask().WaitAsync(Ceiling, token);
            await runtime.InvokeOnAll(async () =>
            {
                Shard shard = Shard.Current!;
                for (int client = 0; client < 10; client++)
                {
                    byte[] payload = Net.NetTestSupport.RandomBytes(20_000 + client, shard.Id * 100 + client);
                    await using ShardConnection connection = await ShardConnection.ConnectAsync(server.LocalEndPoint);
                    Net.NetTestSupport.AssertSameBytes(await Net.NetTestSupport.RoundTripAsync(connection, payload), payload);
                    await shard.Delay(TimeSpan.FromMilliseconds(1));
                    Assert.That(await shard.Runtime.SubmitTo(1 - shard.Id, () => Shard.Current!.Id), Is.EqualTo(1 - shard.Id));
                    await shard.NopAsync();
                }
            }).AsTask().WaitAsync(Ceiling, token);

            Assert.That(schedule.InjectedTotal(), Is.GreaterThan(0), $"faults were injected ({Describe(schedule)})");
        }
        finally
        {
            await StopAsync(runtime, token);
        }

        Assert.That(escaped, Is.Empty);
    }
}
