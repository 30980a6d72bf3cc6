using System.Collections.Generic;
using Miniss.Bindings.Linux;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.IO;

/// <summary>The shard's one table of operations in flight and its user data layout (no ring needed).</summary>
public sealed class CompletionTableTests
{
    private sealed class Recorder : ICompletionTarget
    {
        public List<(int Result, uint Flags)> Completions { get; } = [];

        public void OnCompletion(int result, uint flags) => Completions.Add((result, flags));
    }

    private static bool Deliver(CompletionTable table, ulong userData, int result, uint flags = 0)
    {
        if (!table.TryTake(userData, flags, out ICompletionTarget target))
        {
            return false;
        }

        target.OnCompletion(result, flags);
        return true;
    }

    [Test]
    public void A_completion_reaches_the_target_registered_for_its_user_data()
    {
        var table = new CompletionTable();
        var first = new Recorder();
        var second = new Recorder();
        ulong a = table.Register(first);
        ulong b = table.Register(second);

        Assert.That(Deliver(table, b, 7), Is.True);
        Assert.That(Deliver(table, a, 3), Is.True);

        Assert.That(first.Completions, Is.EqualTo(new[] { (3, 0u) }));
        Assert.That(second.Completions, Is.EqualTo(new[] { (7, 0u) }));
    }

    [Test]
    public void A_stale_completion_is_not_delivered_to_the_target_that_reuses_its_slot()
    {
        var table = new CompletionTable();
        ulong old = table.Register(new Recorder());
        Assert.That(Deliver(table, old, 0), Is.True);

        var reuser = new Recorder();
        ulong current = table.Register(reuser);

        Assert.That(CompletionToken.Slot(current), Is.EqualTo(CompletionToken.Slot(old)), "the freed slot is reused");
        Assert.That(current, Is.Not.EqualTo(old), "in a new generation");
        Assert.That(Deliver(table, old, 5), Is.False);
        Assert.That(reuser.Completions, Is.Empty);
        Assert.That(table.IsRegistered(current), Is.True);
    }

    [Test]
    public void A_multishot_target_keeps_its_slot_until_a_completion_without_more()
    {
        var table = new CompletionTable();
        var target = new Recorder();
        ulong userData = table.Register(target);

        Assert.That(Deliver(table, userData, 10, IoUring.IORING_CQE_F_MORE), Is.True);
        Assert.That(Deliver(table, userData, 20, IoUring.IORING_CQE_F_MORE), Is.True);
        Assert.That(table.Count, Is.EqualTo(1));
        Assert.That(Deliver(table, userData, -125), Is.True);

        Assert.That(table.Count, Is.Zero);
        Assert.That(table.IsRegistered(userData), Is.False);
        Assert.That(Deliver(table, userData, 30, IoUring.IORING_CQE_F_MORE), Is.False, "nothing after the last completion");
        Assert.That(target.Completions, Has.Count.EqualTo(3));
    }

    [Test]
    public void Internal_user_data_is_never_delivered()
    {
        var table = new CompletionTable();
        var target = new Recorder();
        ulong userData = table.Register(target);

        Assert.That(Deliver(table, CompletionToken.CancelRequest, 0), Is.False);
        Assert.That(Deliver(table, CompletionToken.WakeRead, 8), Is.False);
        Assert.That(Deliver(table, userData | CompletionToken.InternalBit, 0), Is.False);
        Assert.That(target.Completions, Is.Empty);
        Assert.That(table.Count, Is.EqualTo(1));
    }

    [Test]
    public void A_released_registration_frees_its_slot_and_is_no_longer_in_flight()
    {
        var table = new CompletionTable();
        ulong userData = table.Register(new Recorder());

        table.Release(userData);
        table.Release(userData);

        Assert.That(table.Count, Is.Zero, "a second release of the same registration changes nothing");
        Assert.That(Deliver(table, userData, 0), Is.False);
    }

    [Test]
    public void The_table_grows_past_its_first_capacity_and_keeps_every_registration()
    {
        var table = new CompletionTable();
        var targets = new Recorder[1000];
        var userData = new ulong[targets.Length];
        for (int i = 0; i < targets.Length; i++)
        {
            targets[i] = new Recorder();
            userData[i] = table.Register(targets[i]);
        }

        for (int i = targets.Length - 1; i >= 0; i--)
        {
            Assert.That(Deliver(table, userData[i], i), Is.True);
        }

        Assert.That(table.Count, Is.Zero);
        for (int i = 0; i < targets.Length; i++)
        {
            Assert.That(targets[i].Completions, Is.EqualTo(new[] { (i, 0u) }));
        }
    }

    [Test]
    public void The_generation_wraps_within_its_bits_and_never_sets_the_internal_bit()
    {
        Assert.That(CompletionToken.Next(CompletionToken.MaxGeneration), Is.Zero);
        ulong last = CompletionToken.Encode(int.MaxValue, CompletionToken.MaxGeneration);
        Assert.That(CompletionToken.IsInternal(last), Is.False);
        Assert.That(CompletionToken.Generation(last), Is.EqualTo(CompletionToken.MaxGeneration));
        Assert.That(CompletionToken.Slot(last), Is.EqualTo((uint)int.MaxValue));
    }
}
