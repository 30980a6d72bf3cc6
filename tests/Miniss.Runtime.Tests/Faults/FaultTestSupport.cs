using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO.FaultInjection;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Faults;

/// <summary>Seeds, runtimes and checks shared by the fault-injection tests.</summary>
internal static class FaultTestSupport
{
    /// <summary>The environment variable that replays one seed instead of the fixed ones.</summary>
    public const string SeedVariable = "MINISS_FAULT_SEED";

    /// <summary>The ceiling on any single wait of these tests: a correct run never comes near it.</summary>
    public static readonly TimeSpan Ceiling = TimeSpan.FromSeconds(45);

    /// <summary>The seeds CI runs, or only the one <see cref="SeedVariable"/> names.</summary>
    public static IEnumerable<int> Seeds(params int[] fixedSeeds)
    {
        string? replay = Environment.GetEnvironmentVariable(SeedVariable);
        if (!string.IsNullOrWhiteSpace(replay))
        {
            if (!int.TryParse(replay, out int seed))
            {
                throw new ArgumentException($"{SeedVariable} must be an integer seed, not '{replay}'");
            }

            return [seed];
        }

        return fixedSeeds;
    }

    /// <summary>The schedule of a test: <paramref name="seed"/> at <paramref name="rate"/> with every kind of fault,
    /// unless <c>MINISS_FAULT_RATE</c> (a chance from 0 to 1), <c>MINISS_FAULT_KINDS</c> (names of
    /// <see cref="FaultKinds"/>, comma-separated) or <c>MINISS_FAULT_OPCODES</c> (<c>IORING_OP_*</c> numbers,
    /// comma-separated) say otherwise, to narrow down a failing replay.</summary>
    public static FaultSchedule Schedule(int seed, double rate, FaultKinds kinds = FaultKinds.All)
    {
        if (Environment.GetEnvironmentVariable("MINISS_FAULT_RATE") is { Length: > 0 } rateText)
        {
            rate = double.Parse(rateText, System.Globalization.CultureInfo.InvariantCulture);
        }

        if (Environment.GetEnvironmentVariable("MINISS_FAULT_KINDS") is { Length: > 0 } kindsText)
        {
            kinds = Enum.Parse<FaultKinds>(kindsText);
        }

        IEnumerable<byte>? opcodes = null;
        if (Environment.GetEnvironmentVariable("MINISS_FAULT_OPCODES") is { Length: > 0 } opcodesText)
        {
            opcodes = opcodesText.Split(',').Select(byte.Parse).ToArray();
        }

        return new FaultSchedule(seed, rate, kinds, opcodes: opcodes);
    }

    /// <summary>Starts a two-shard runtime on the fixture's backend that injects <paramref name="schedule"/>'s
    /// faults, and records every exception its shards report into <paramref name="escaped"/>.</summary>
    public static MinissRuntime Start(FaultSchedule schedule, ConcurrentQueue<string> escaped, int shards = 2)
    {
        RuntimeOptions options = RuntimeScope.Options(shards);
        options.StallThreshold = TimeSpan.Zero;
        options.Faults = schedule;
        MinissRuntime runtime = MinissRuntime.Start(options);
        runtime.UnhandledException += (_, e) => escaped.Enqueue($"shard {e.ShardId}: {e.Exception}");
        return runtime;
    }

    /// <summary>Stops <paramref name="runtime"/> within the ceiling (a runtime that does not stop fails the test).</summary>
    public static async Task StopAsync(MinissRuntime runtime, CancellationToken token)
    {
        Task stop = runtime.StopAsync().AsTask();
        try
        {
            await stop.WaitAsync(Ceiling, token);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the runtime did not stop within {Ceiling.TotalSeconds} s");
        }
    }

    /// <summary>The process's descriptors and what they point to (assemblies left out).</summary>
    public static Dictionary<string, string> OpenDescriptors() => Storage.StorageTestSupport.OpenDescriptors();

    /// <summary>Descriptors open now that were not open (to the same target) at <paramref name="before"/>; ones
    /// closed meanwhile do not count.</summary>
    public static List<string> NewDescriptors(Dictionary<string, string> before)
    {
        var leaked = new List<string>();
        string enumeration = $"/proc/{Environment.ProcessId}/fd";
        foreach ((string fd, string target) in OpenDescriptors())
        {
            // Symbols the runtime opens to format a stack trace, and the directory being listed, are not leaks; nor is
            // the runtime's descriptor reserve on /dev/null, given back on an injected EMFILE and taken again later.
            if (target.EndsWith(".pdb", StringComparison.Ordinal) || target == enumeration || target == "/dev/null")
            {
                continue;
            }

            if (!before.TryGetValue(fd, out string? earlier) || earlier != target)
            {
                leaked.Add($"{fd} -> {target}");
            }
        }

        return leaked;
    }

    /// <summary>Operations in flight on the calling shard (its promises and multishot operations not yet completed).</summary>
    public static int OperationsInFlight(Shard shard) => shard.IoInFlight;

    /// <summary>Whether <paramref name="e"/> is how an operation reports a failure of its own (an injected one): an
    /// I/O or socket error, or a cancellation. Anything else is a defect of the runtime.</summary>
    public static bool IsOperationFailure(Exception e) =>
        e is IOException or SocketException or OperationCanceledException or UnauthorizedAccessException
        || e is AggregateException { InnerExceptions: var inner } && inner.All(IsOperationFailure);

    /// <summary>The injection counters of <paramref name="schedule"/>, one line.</summary>
    public static string Describe(FaultSchedule schedule)
    {
        var parts = new List<string>();
        foreach (FaultKinds kind in Enum.GetValues<FaultKinds>())
        {
            if (kind is not (FaultKinds.None or FaultKinds.All))
            {
                parts.Add($"{kind}={schedule.Injected(kind)}");
            }
        }

        return $"{schedule}: injected {string.Join(", ", parts)}";
    }
}
