using System.Collections.Generic;
using System.Threading;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NUnit.Framework;

namespace Miniss.Hosting.Tests;

/// <summary>An invalid option fails the host's start, before any shard starts, with a message naming the key and its rule.</summary>
public sealed class OptionsValidationTests
{
    /// <summary>One invalid setting each, named as the test it is, and what the refusal must say about it.</summary>
    private static IEnumerable<TestCaseData> InvalidSettings()
    {
        yield return Refusal("A_shard_count_of_zero_fails_start_naming_the_key_and_the_rule", "Miniss:ShardCount", "0", "Miniss:ShardCount is 0", "at least 1 shard");
        yield return Refusal("A_value_that_is_not_a_number_fails_start_naming_the_key", "Miniss:ShardCount", "two", "Miniss:ShardCount", "two");
        yield return Refusal("An_unknown_backend_fails_start_naming_the_key_and_the_backends", "Miniss:Backend", "fast", "Miniss:Backend is 'fast'", "io_uring, epoll");
        yield return Refusal(
            "A_buffer_pool_smaller_than_its_largest_buffer_fails_start_naming_the_key",
            "Miniss:BufferPool:MaxMemory",
            "4096",
            "Miniss:BufferPool:MaxMemory (4096 bytes) must hold at least one buffer of the largest size class");
        yield return Refusal("A_negative_duration_fails_start_naming_that_duration", "Miniss:StallThreshold", "-00:00:01", "Miniss:StallThreshold is -00:00:01: must not be negative");
    }

    private static TestCaseData Refusal(string name, string key, string value, params string[] expected) =>
        new TestCaseData(key, value, expected).SetName(name);

    [TestCaseSource(nameof(InvalidSettings))]
    [CancelAfter(60_000)]
    public void An_invalid_setting_fails_start_with_a_message_naming_it(string key, string value, string[] expected, CancellationToken token)
    {
        OptionsValidationException error = StartFails(new() { [key] = value }, token);

        foreach (string text in expected)
        {
            Assert.That(error.Message, Does.Contain(text));
        }
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
