using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NUnit.Framework;

namespace Miniss.Hosting.Tests;

public sealed class AddMinissTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task A_host_starts_the_runtime_with_configured_shards_and_stops_it(CancellationToken token)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Miniss:ShardCount"] = "2", ["Miniss:Backend"] = "epoll" });
        builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"));
        using IHost host = builder.Build();
        await host.StartAsync(token);
        MinissRuntime runtime = host.Services.GetRequiredService<MinissRuntime>();
        Assert.That(runtime.ShardCount, Is.EqualTo(2));
        Assert.That(runtime.Backend.Kind, Is.EqualTo(IO.IoBackendKind.Epoll));
        Assert.That(await runtime.SubmitTo(1, () => Shard.Current!.Id, token), Is.EqualTo(1));
        await host.StopAsync(token);
        Assert.That(runtime.IsStopping, Is.True);
        Assert.ThrowsAsync<ObjectDisposedException>(async () => await runtime.SubmitTo(0, () => 1, CancellationToken.None));
    }
}
