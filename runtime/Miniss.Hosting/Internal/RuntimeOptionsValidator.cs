using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Options;
using Miniss.Buffers;

namespace Miniss.Hosting.Internal;

/// <summary>
/// Checks <see cref="RuntimeOptions"/> when the host starts (<c>ValidateOnStart</c>), so a bad value stops the host
/// with every rule it breaks, each a sentence naming the key as configuration spells it (<c>Miniss:ShardCount is 0:
/// ...</c>), instead of an <see cref="ArgumentOutOfRangeException"/> from <see cref="MinissRuntime.Start"/> later.
/// The runtime's own checks run last, so a rule it gains is enforced here too.
/// </summary>
internal sealed class RuntimeOptionsValidator(IEnumerable<RuntimeOptionsBinding> bindings) : IValidateOptions<RuntimeOptions>
{
    private readonly string _prefix = PrefixOf(bindings);

    public ValidateOptionsResult Validate(string? name, RuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.ShardCount is <= 0)
        {
            failures.Add(Refusal(nameof(options.ShardCount), options.ShardCount, "at least 1 shard is needed (leave it unset for one shard per CPU)"));
        }

        if (options.Cpus is { } cpus)
        {
            for (int i = 0; i < cpus.Count; i++)
            {
                if (cpus[i] < 0)
                {
                    failures.Add(Refusal($"{nameof(options.Cpus)}:{i}", cpus[i], "a CPU number is 0 or more"));
                }
            }
        }

        if (options.SpinBeforeSleep < TimeSpan.Zero)
        {
            failures.Add(Refusal(nameof(options.SpinBeforeSleep), options.SpinBeforeSleep, "must not be negative (00:00:00 sleeps at once)"));
        }

        if (options.TaskQuota <= TimeSpan.Zero)
        {
            failures.Add(Refusal(nameof(options.TaskQuota), options.TaskQuota, "must be positive, such as 00:00:00.0005 (500 µs, the default)"));
        }

        if (options.StallThreshold < TimeSpan.Zero)
        {
            failures.Add(Refusal(nameof(options.StallThreshold), options.StallThreshold, "must not be negative (00:00:00 turns the stall detector off)"));
        }

        if (options.CrossShardQueueCapacity < 2 || !BitOperations.IsPow2(options.CrossShardQueueCapacity))
        {
            failures.Add(Refusal(nameof(options.CrossShardQueueCapacity), options.CrossShardQueueCapacity, "must be a power of two, at least 2 (default 1024)"));
        }

        if (!Enum.IsDefined(options.Backend))
        {
            failures.Add(Refusal(nameof(options.Backend), options.Backend, "use io_uring, epoll, kqueue or auto"));
        }

        if (options.BlockingIoThreads is < 1 or > 1024)
        {
            failures.Add(Refusal(nameof(options.BlockingIoThreads), options.BlockingIoThreads, "must be from 1 to 1024 (default 4)"));
        }

        if (options.RingEntries is < 1 or > 32768)
        {
            failures.Add(Refusal(nameof(options.RingEntries), options.RingEntries, "must be from 1 to 32768 (default 256)"));
        }

        if (options.CompletionEntries is { } completions && completions < options.RingEntries)
        {
            failures.Add(Refusal(nameof(options.CompletionEntries), completions,
                $"must be at least RingEntries ({options.RingEntries}), or unset for four times RingEntries"));
        }

        if (options.ReceiveBufferCount is < 0 or > 32768 || (options.ReceiveBufferCount != 0 && !BitOperations.IsPow2(options.ReceiveBufferCount)))
        {
            failures.Add(Refusal(nameof(options.ReceiveBufferCount), options.ReceiveBufferCount, "must be 0 (no multishot receives) or a power of two up to 32768"));
        }

        if (options.ReceiveBufferSize <= 0)
        {
            failures.Add(Refusal(nameof(options.ReceiveBufferSize), options.ReceiveBufferSize, "must be a positive number of bytes (default 8192)"));
        }

        if (options.BufferPool is null)
        {
            failures.Add($"{_prefix}{nameof(options.BufferPool)} is missing: leave it unset for the default pool.");
        }
        else
        {
            CheckBufferPool(options.BufferPool, failures);
        }

        if (failures.Count == 0)
        {
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                failures.Add($"{_prefix}{e.ParamName}: {WithoutParameterName(e.Message)}");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void CheckBufferPool(BufferPoolConfig pool, List<string> failures)
    {
        try
        {
            pool.Validate();
        }
        catch (ArgumentException e)
        {
            // The pool's messages are sentences that start with the property they are about.
            failures.Add($"{_prefix}{nameof(RuntimeOptions.BufferPool)}:{WithoutParameterName(e.Message)}");
        }
    }

    private string Refusal(string key, object? value, string rule) =>
        string.Create(CultureInfo.InvariantCulture, $"{_prefix}{key} is {value}: {rule}.");

    /// <summary>An <see cref="ArgumentException"/>'s message without the " (Parameter 'name')" .NET appends.</summary>
    private static string WithoutParameterName(string message)
    {
        int at = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }

    /// <summary>Keys are written as the configuration section spells them (<c>Miniss:</c>), or as properties
    /// (<c>RuntimeOptions.</c>) when the options come from code only.</summary>
    private static string PrefixOf(IEnumerable<RuntimeOptionsBinding> bindings)
    {
        string? prefix = null;
        foreach (RuntimeOptionsBinding binding in bindings)
        {
            prefix = binding.KeyPrefix;
        }

        return prefix is { Length: > 0 } ? prefix : nameof(RuntimeOptions) + ".";
    }
}
