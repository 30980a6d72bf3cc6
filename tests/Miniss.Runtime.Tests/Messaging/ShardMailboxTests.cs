using System.Threading;
using System.Threading.Tasks;
using Miniss.Messaging;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Messaging;

/// <summary>The mailbox: the doorbell outside threads ring after queueing work, what the shard takes, and who wakes it.</summary>
public sealed class ShardMailboxTests
{
    /// <summary>A mailbox on the heap, as it lives in a shard (a struct mutated in place).</summary>
    private sealed class Holder
    {
        public ShardMailbox Mailbox;
    }

    [Test]
    public void Work_queued_after_the_shard_took_its_mail_waits_for_its_next_look()
    {
        var box = new Holder();
        box.Mailbox.DeliverExternal();

        bool first = box.Mailbox.TakeExternal();
        bool second = box.Mailbox.TakeExternal();
        box.Mailbox.DeliverExternal();
        bool third = box.Mailbox.TakeExternal();

        Assert.That((first, second, third, box.Mailbox.HasMail), Is.EqualTo((true, false, true, false)));
    }

    [Test]
    public void Only_one_of_many_senders_to_a_sleeping_shard_wakes_it()
    {
        var box = new Holder();
        box.Mailbox.AnnounceSleep();
        int claims = 0;

        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, sender =>
        {
            if (box.Mailbox.DeliverExternal())
            {
                Interlocked.Increment(ref claims);
            }
        });

        Assert.That(claims, Is.EqualTo(1));
        Assert.That(box.Mailbox.IsSleeping, Is.False);
    }

    [Test]
    public void A_sender_to_an_awake_shard_does_not_wake_it()
    {
        var box = new Holder();

        Assert.That(box.Mailbox.DeliverExternal(), Is.False);
        Assert.That(box.Mailbox.HasMail, Is.True);
    }

    /// <summary>The race the mailbox exists for, many times over: a shard announcing its sleep and then looking at its
    /// mail, against a sender delivering and then looking at the sleeping flag. In every round either the shard sees
    /// the mail (and does not sleep) or the sender sees the flag (and wakes it): never neither.</summary>
    [Test, CancelAfter(60000)]
    public async Task A_shard_going_to_sleep_either_sees_the_mail_or_is_woken_by_its_sender(CancellationToken token)
    {
        const int rounds = 20_000;
        var box = new Holder();
        using var barrier = new Barrier(2);
        var sawMail = new bool[rounds];
        var woke = new bool[rounds];

        Task shard = Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < rounds; i++)
            {
                barrier.SignalAndWait(token);
                box.Mailbox.AnnounceSleep();
                sawMail[i] = box.Mailbox.HasMail;
                barrier.SignalAndWait(token);
                box.Mailbox.TakeExternal();
                box.Mailbox.EndSleep();
            }
        }, token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Task sender = Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < rounds; i++)
            {
                barrier.SignalAndWait(token);
                woke[i] = box.Mailbox.DeliverExternal();
                barrier.SignalAndWait(token);
            }
        }, token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await Task.WhenAll(shard, sender).WaitAsync(token);

        int lost = 0;
        for (int i = 0; i < rounds; i++)
        {
            if (!sawMail[i] && !woke[i])
            {
                lost++;
            }
        }

        Assert.That(lost, Is.Zero, "rounds where the shard would have slept with mail and nobody woke it");
    }
}
