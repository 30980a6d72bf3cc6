using System;
using System.Collections.Generic;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Hosting.Tests;

/// <summary><c>AddMiniss(configuration)</c> reads every documented key, with the spellings the documentation uses.</summary>
public sealed class OptionsBindingTests
{
    [TestCase("io_uring", IoBackendKind.IoUring)]
    [TestCase("IoUring", IoBackendKind.IoUring)]
    [TestCase("epoll", IoBackendKind.Epoll)]
    [TestCase("Epoll", IoBackendKind.Epoll)]
    [TestCase("auto", IoBackendKind.Auto)]
    public void Backend_binds_from_the_names_Miniss_documents_and_the_enum_names(string name, IoBackendKind expected)
    {
        RuntimeOptions options = Bind(new() { ["Miniss:Backend"] = name });

        Assert.That(options.Backend, Is.EqualTo(expected));
    }

    [Test]
    public void Counts_sizes_durations_and_lists_bind_from_their_keys()
    {
        RuntimeOptions options = Bind(new()
        {
            ["Miniss:ShardCount"] = "3",
            ["Miniss:Cpus:0"] = "0",
            ["Miniss:Cpus:1"] = "0",
            ["Miniss:StallThreshold"] = "00:00:00.050",
            ["Miniss:SpinBeforeSleep"] = "00:00:00",
            ["Miniss:PinThreads"] = "false",
            ["Miniss:BufferPool:MaxMemory"] = "33554432",
            ["Miniss:BufferPool:SizeClasses:0"] = "4096",
            ["Miniss:BufferPool:SizeClasses:1"] = "65536",
        });

        Assert.That(options.ShardCount, Is.EqualTo(3));
        Assert.That(options.Cpus, Is.EqualTo(new[] { 0, 0 }));
        Assert.That(options.StallThreshold, Is.EqualTo(TimeSpan.FromMilliseconds(50)));
        Assert.That(options.SpinBeforeSleep, Is.EqualTo(TimeSpan.Zero));
        Assert.That(options.PinThreads, Is.False);
        Assert.That(options.BufferPool.MaxMemory, Is.EqualTo(32L << 20));
        Assert.That(options.BufferPool.SizeClasses, Is.EqualTo(new[] { 4096, 65536 }), "the configured size classes replace the default ones");
    }

    [Test]
    public void Options_set_in_code_apply_after_configuration()
    {
        HostApplicationBuilder builder = Builder(new() { ["Miniss:ShardCount"] = "3" });
        builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"), options => options.ShardCount = 1);
        using IHost host = builder.Build();

        Assert.That(host.Services.GetRequiredService<IOptions<RuntimeOptions>>().Value.ShardCount, Is.EqualTo(1));
    }

    private static RuntimeOptions Bind(Dictionary<string, string?> settings)
    {
        HostApplicationBuilder builder = Builder(settings);
        builder.Services.AddMiniss(builder.Configuration.GetSection("Miniss"));
        using IHost host = builder.Build();
        return host.Services.GetRequiredService<IOptions<RuntimeOptions>>().Value;
    }

    internal static HostApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }
}
