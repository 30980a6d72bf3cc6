using System;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Shards;

[TestFixture]
[Platform("Linux")]
public sealed class SmokeTests
{
    [Test, CancelAfter(20000)]
    public async Task Start_submit_and_stop()
    {
        await using var runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 2 });
        int value = await runtime.SubmitTo(1, () => 6 * 7);
        Assert.That(value, Is.EqualTo(42));
        string name = await runtime.SubmitTo(0, async () =>
        {
            await Shard.Current!.NopAsync();
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(5));
            int other = await runtime.SubmitTo(1, () => Shard.Current!.Id);
            return Thread.CurrentThread.Name + ":" + other;
        });
        Assert.That(name, Is.EqualTo("miniss-shard-0:1"));
    }
}
