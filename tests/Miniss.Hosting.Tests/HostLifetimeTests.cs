using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Hosting.Tests;

/// <summary>
/// A host built as applications build it (<c>Host.CreateApplicationBuilder</c>): options from environment variables,
/// the runtime's log in the host's logging with its categories and event ids, and a stop that the shutdown timeout
/// bounds even when a shard is blocked.
/// </summary>
[NonParallelizable]
public sealed class HostLifetimeTests
{
    /// <summary>A ceiling no correct run comes near.</summary>
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(30);

    [Test]
    [CancelAfter(60_000)]
    public async Task Environment_variables_configure_the_runtime_that_serves(CancellationToken token)
    {
        using var backend = new EnvironmentVariable("Miniss__Backend", "epoll");
        using var shards = new EnvironmentVariable("Miniss__ShardCount", "2");
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"));
        builder.Services.AddShardServer(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), Echo.HandleAsync);
        using IHost host = builder.Build();
        await host.StartAsync(token);

        MinissRuntime runtime = host.Services.GetRequiredService<MinissRuntime>();
        Assert.That(runtime.ShardCount, Is.EqualTo(2));
        Assert.That(runtime.Backend.Kind, Is.EqualTo(IoBackendKind.Epoll));
        Assert.That(runtime.Backend.Source, Is.EqualTo("RuntimeOptions.Backend"));
        await Task.Run(() => Echo.RoundTrip(host.Services.GetRequiredService<HostedShardServer>().LocalEndPoint), token);
        await host.StopAsync(token);
        Assert.That(runtime.IsStopping, Is.True);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task The_backend_chosen_is_logged_as_event_7_of_Miniss_IO(CancellationToken token)
    {
        using IHost host = FakeLoggedHost(new() { ["Miniss:ShardCount"] = "1", ["Miniss:Backend"] = "epoll" });
        await host.StartAsync(token);
        await host.StopAsync(token);

        FakeLogRecord chosen = Single(host, "Miniss.IO", 7);
        Assert.That(chosen.Level, Is.EqualTo(LogLevel.Information));
        Assert.That(chosen.Message, Does.Contain("epoll"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_stall_is_logged_as_event_4_of_Miniss_Runtime_naming_the_shard(CancellationToken token)
    {
        using IHost host = FakeLoggedHost(new() { ["Miniss:ShardCount"] = "2", ["Miniss:StallThreshold"] = "00:00:00.020" });
        await host.StartAsync(token);
        MinissRuntime runtime = host.Services.GetRequiredService<MinissRuntime>();
        FakeLogCollector logs = host.Services.GetFakeLogCollector();
        using var release = new ManualResetEventSlim();

        // The shard is held until the stall report appears (or the ceiling passes), whatever the machine's speed.
        Task blocked = runtime.SubmitTo(1, () => release.Wait(s_patience)).AsTask();
        var clock = Stopwatch.StartNew();
        while (StallOfShard1(logs) is null && clock.Elapsed < s_patience)
        {
            await Task.Delay(20, token);
        }

        release.Set();
        await blocked.WaitAsync(token);
        await host.StopAsync(token);

        // Only shard 1's: on a loaded machine shard 0 may be reported too, for a task the scheduler preempted.
        FakeLogRecord? stall = StallOfShard1(logs);
        Assert.That(stall, Is.Not.Null, "event 4 of Miniss.Runtime naming shard 1");
        Assert.That(stall!.Level, Is.EqualTo(LogLevel.Warning));

        static FakeLogRecord? StallOfShard1(FakeLogCollector logs) =>
            Find(logs, "Miniss.Runtime", 4).Find(record => record.Message.StartsWith("Miniss shard 1 stalled", StringComparison.Ordinal));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_stop_past_the_shutdown_timeout_ends_and_logs_event_10_naming_the_blocked_shard(CancellationToken token)
    {
        using IHost host = FakeLoggedHost(new() { ["Miniss:ShardCount"] = "2", ["Miniss:StallThreshold"] = "00:00:00" },
            services => services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(2)));
        await host.StartAsync(token);
        MinissRuntime runtime = host.Services.GetRequiredService<MinissRuntime>();
        using var release = new ManualResetEventSlim();
        using var running = new ManualResetEventSlim();
        Task blocked = runtime.SubmitTo(1, () =>
        {
            running.Set();
            release.Wait(s_patience);
        }).AsTask();
        Assert.That(running.Wait(s_patience, token), Is.True, "the blocking work item never ran");

        try
        {
            // Ends although shard 1 cannot drain: the host's timeout cancels the runtime's stop.
            await host.StopAsync(token);

            FakeLogRecord timedOut = Single(host, "Miniss.Runtime", 10);
            Assert.That(timedOut.Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(timedOut.Message, Does.Contain("shard 1: one task running"));
        }
        finally
        {
            release.Set();
        }

        await blocked.WaitAsync(token);
    }

    private static IHost FakeLoggedHost(Dictionary<string, string?> settings, Action<IServiceCollection>? configure = null)
    {
        HostApplicationBuilder builder = OptionsBindingTests.Builder(settings);
        builder.Logging.AddFakeLogging();
        builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"));
        configure?.Invoke(builder.Services);
        return builder.Build();
    }

    private static FakeLogRecord Single(IHost host, string category, int eventId)
    {
        List<FakeLogRecord> found = Find(host.Services.GetFakeLogCollector(), category, eventId);
        Assert.That(found, Has.Count.EqualTo(1), $"one event {eventId} in {category}");
        return found[0];
    }

    private static List<FakeLogRecord> Find(FakeLogCollector logs, string category, int eventId)
    {
        var found = new List<FakeLogRecord>();
        foreach (FakeLogRecord record in logs.GetSnapshot())
        {
            if (record.Category == category && record.Id.Id == eventId)
            {
                found.Add(record);
            }
        }

        return found;
    }

    /// <summary>Sets an environment variable for the length of a test and restores what it was.</summary>
    private sealed class EnvironmentVariable : IDisposable
    {
        private readonly string _name;
        private readonly string? _previous;

        public EnvironmentVariable(string name, string value)
        {
            _name = name;
            _previous = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose() => Environment.SetEnvironmentVariable(_name, _previous);
    }
}
