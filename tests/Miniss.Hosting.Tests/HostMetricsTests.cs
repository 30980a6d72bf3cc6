using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NUnit.Framework;

namespace Miniss.Hosting.Tests;

/// <summary>A hosted runtime creates its Miniss meter through the host's IMeterFactory, so the host's metrics
/// pipeline (and dotnet-counters) sees it as one of the host's meters.</summary>
public sealed class HostMetricsTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task The_Miniss_meter_of_a_hosted_runtime_comes_from_the_hosts_meter_factory(CancellationToken token)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Miniss:ShardCount"] = "2" });
        builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"));
        using IHost host = builder.Build();
        IMeterFactory factory = host.Services.GetRequiredService<IMeterFactory>();
        var published = new ConcurrentQueue<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == "Miniss" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    published.Enqueue(instrument);
                }
            },
        };
        listener.Start();

        await host.StartAsync(token);
        await host.StopAsync(token);

        Assert.That(published.Select(i => i.Name), Does.Contain("miniss.io.completions"));
    }
}
