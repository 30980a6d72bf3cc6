using System;
using System.Collections.Generic;
using Miniss.Timers;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Timers;

/// <summary>The timer heap on its own: order, lazy deletion, compaction and allocations.</summary>
public sealed class TimerHeapTests
{
    [Test]
    public void Due_entries_pop_in_deadline_order()
    {
        var heap = new TimerHeap<Armed, ArmedLiveness>(default);
        long[] deadlines = [50, 10, 40, 30, 20, 60, 0, 45];
        foreach (long deadline in deadlines)
        {
            heap.Push(new TestTimer(deadline).Current, deadline);
        }

        var popped = new List<long>();
        while (heap.TryPopDue(long.MaxValue, out Armed timer))
        {
            popped.Add(timer.Timer.Id);
        }

        Assert.That(popped, Is.EqualTo(new long[] { 0, 10, 20, 30, 40, 45, 50, 60 }));
    }

    [Test]
    public void Entries_not_yet_due_stay()
    {
        var heap = new TimerHeap<Armed, ArmedLiveness>(default);
        heap.Push(new TestTimer(1).Current, 10);
        heap.Push(new TestTimer(2).Current, 20);

        Assert.That(heap.TryPopDue(15, out Armed first), Is.True);
        Assert.That(first.Timer.Id, Is.EqualTo(1));
        Assert.That(heap.TryPopDue(15, out _), Is.False);
        Assert.That(heap.Count, Is.EqualTo(1));
    }

    [Test]
    public void Cancelled_entries_never_pop()
    {
        var heap = new TimerHeap<Armed, ArmedLiveness>(default);
        var cancelled = new TestTimer(1);
        heap.Push(cancelled.Current, 10);
        heap.Push(new TestTimer(2).Current, 20);
        cancelled.Cancel();

        Assert.That(heap.TryPopDue(30, out Armed timer), Is.True);
        Assert.That(timer.Timer.Id, Is.EqualTo(2));
        Assert.That(heap.TryPopDue(30, out _), Is.False);
        Assert.That(heap.Count, Is.Zero);
    }

    [Test]
    public void Peeking_a_live_entry_drops_the_cancelled_ones_before_it()
    {
        var heap = new TimerHeap<Armed, ArmedLiveness>(default);
        var early = new TestTimer(1);
        heap.Push(early.Current, 10);
        heap.Push(new TestTimer(2).Current, 20);
        early.Cancel();

        Assert.That(heap.TryPeekLive(out Armed timer, out long deadline), Is.True);
        Assert.That((timer.Timer.Id, deadline), Is.EqualTo((2L, 20L)));
        Assert.That(heap.Count, Is.EqualTo(1));
    }

    [Test]
    public void Many_cancelled_timers_behind_a_live_one_do_not_grow_the_heap()
    {
        var heap = new TimerHeap<Armed, ArmedLiveness>(default);

        // The live timer is due first, so the cancelled ones never reach the top: only compaction drops them.
        heap.Push(new TestTimer(0).Current, 1);
        for (int i = 1; i <= 100_000; i++)
        {
            var timer = new TestTimer(i);
            heap.Push(timer.Current, 1_000 + i);
            timer.Cancel();
        }

        Assert.That(heap.Count, Is.LessThanOrEqualTo(2 * TimerHeap<Armed, ArmedLiveness>.MinimumCompaction));
        Assert.That(heap.Capacity, Is.LessThanOrEqualTo(4 * TimerHeap<Armed, ArmedLiveness>.MinimumCompaction));
        Assert.That(heap.TryPopDue(long.MaxValue, out Armed live), Is.True);
        Assert.That(live.Timer.Id, Is.Zero);
        Assert.That(heap.TryPopDue(long.MaxValue, out _), Is.False);
    }

    [Test]
    public void Compaction_keeps_every_live_entry_in_deadline_order()
    {
        var heap = new TimerHeap<Armed, ArmedLiveness>(default);
        var rng = new Random(12);
        var live = new List<long>();
        for (int i = 0; i < 10_000; i++)
        {
            long deadline = rng.Next(1_000_000);
            var timer = new TestTimer(deadline);
            heap.Push(timer.Current, deadline);
            if (i % 3 == 0)
            {
                live.Add(deadline);
            }
            else
            {
                timer.Cancel();
            }
        }

        Assert.That(heap.Compactions, Is.GreaterThan(0));
        live.Sort();
        var popped = new List<long>();
        while (heap.TryPopDue(long.MaxValue, out Armed timer))
        {
            popped.Add(timer.Timer.Id);
        }

        Assert.That(popped, Is.EqualTo(live));
    }

    [Test]
    public void Arming_and_cancelling_allocates_nothing_once_grown()
    {
        var heap = new TimerHeap<Armed, ArmedLiveness>(default);
        var timers = new TestTimer[1000];
        for (int i = 0; i < timers.Length; i++)
        {
            timers[i] = new TestTimer(i);
        }

        heap.Push(new TestTimer(-1).Current, 0);
        Cycle(heap, timers, 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 1; round <= 50; round++)
        {
            Cycle(heap, timers, round);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);

        static void Cycle(TimerHeap<Armed, ArmedLiveness> heap, TestTimer[] timers, long round)
        {
            foreach (TestTimer timer in timers)
            {
                timer.Arm(round);
                heap.Push(timer.Current, 1_000 + timer.Id);
                timer.Cancel();
            }
        }
    }

    /// <summary>A timer that may be cancelled and armed again.</summary>
    private sealed class TestTimer(long id)
    {
        public long Id { get; } = id;

        public bool IsArmed { get; private set; } = true;

        public long Arming { get; private set; }

        /// <summary>The heap entry of the current arming.</summary>
        public Armed Current => new(this, Arming);

        public void Cancel() => IsArmed = false;

        public void Arm(long arming)
        {
            Arming = arming;
            IsArmed = true;
        }
    }

    private readonly record struct Armed(TestTimer Timer, long Arming);

    /// <summary>An entry is live while its timer is armed under the arming it was pushed with.</summary>
    private readonly struct ArmedLiveness : ITimerLiveness<Armed>
    {
        public bool IsLive(in Armed entry) => entry.Timer.IsArmed && entry.Timer.Arming == entry.Arming;
    }
}
