using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NUnit.Framework;

namespace Miniss.Hosting.Tests;

/// <summary>An invalid option fails the host's start, before any shard starts, with a message naming the key and its rule.</summary>
public sealed class OptionsValidationTests
{
    [Test]
    [CancelAfter(60_000)]
    public void A_shard_count_of_zero_fails_start_naming_the_key_and_the_rule(CancellationToken token)
    {
        OptionsValidationException error = StartFails(new() { ["Miniss:ShardCount"] = "0" }, token);

        Assert.That(error.Message, Does.Contain("Miniss:ShardCount is 0").And.Contain("at least 1 shard"));
    }

    [Test]
    [CancelAfter(60_000)]
    public void A_value_that_is_not_a_number_fails_start_naming_the_key(CancellationToken token)
    {
        OptionsValidationException error = StartFails(new() { ["Miniss:ShardCount"] = "two" }, token);

        Assert.That(error.Message, Does.Contain("Miniss:ShardCount").And.Contain("two"));
    }

    [Test]
    [CancelAfter(60_000)]
    public void An_unknown_backend_fails_start_naming_the_key_and_the_backends(CancellationToken token)
    {
        OptionsValidationException error = StartFails(new() { ["Miniss:Backend"] = "fast" }, token);

        Assert.That(error.Message, Does.Contain("Miniss:Backend is 'fast'").And.Contain("io_uring, epoll"));
    }

    [Test]
    [CancelAfter(60_000)]
    public void A_buffer_pool_smaller_than_its_largest_buffer_fails_start_naming_the_key(CancellationToken token)
    {
        OptionsValidationException error = StartFails(new() { ["Miniss:BufferPool:MaxMemory"] = "4096" }, token);

        Assert.That(error.Message, Does.Contain("Miniss:BufferPool:MaxMemory (4096 bytes) must hold at least one buffer of the largest size class"));
    }

    [Test]
    [CancelAfter(60_000)]
    public void A_negative_duration_fails_start_naming_that_duration(CancellationToken token)
    {
        OptionsValidationException error = StartFails(new() { ["Miniss:StallThreshold"] = "-00:00:01" }, token);

        Assert.That(error.Message, Does.Contain("Miniss:StallThreshold is -00:00:01: must not be negative"));
    }

    [Test]
    [CancelAfter(60_000)]
    public void Every_broken_rule_is_reported_at_once(CancellationToken token)
    {
        OptionsValidationException error = StartFails(new() { ["Miniss:ShardCount"] = "0", ["Miniss:RingEntries"] = "0" }, token);

        Assert.That(error.Failures, Has.Some.Contains("Miniss:ShardCount").And.Some.Contains("Miniss:RingEntries"));
    }

    [Test]
    [CancelAfter(60_000)]
    public void Options_from_code_only_are_named_as_properties(CancellationToken token)
    {
        HostApplicationBuilder builder = OptionsBindingTests.Builder([]);
        builder.Services.AddMiniss(options => options.CrossShardQueueCapacity = 1000);
        using IHost host = builder.Build();

        OptionsValidationException error = Assert.ThrowsAsync<OptionsValidationException>(async () => await host.StartAsync(token))!;

        Assert.That(error.Message, Does.Contain("RuntimeOptions.CrossShardQueueCapacity is 1000: must be a power of two"));
    }

    private static OptionsValidationException StartFails(Dictionary<string, string?> settings, CancellationToken token)
    {
        HostApplicationBuilder builder = OptionsBindingTests.Builder(settings);
        builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"));
        using IHost host = builder.Build();
        OptionsValidationException error = Assert.ThrowsAsync<OptionsValidationException>(async () => await host.StartAsync(token))!;
        Assert.That(error.OptionsType, Is.EqualTo(typeof(RuntimeOptions)));
        return error;
    }
}
