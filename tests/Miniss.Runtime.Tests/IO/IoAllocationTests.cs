using System;
using System.IO;
using System.Threading.Tasks;
using Miniss.IO;
using Miniss.Storage;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Storage.StorageTestSupport;

namespace Miniss.Runtime.Tests.IO;

/// <summary>Steady-state raw operations allocate nothing on the shard's thread.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
public sealed class IoAllocationTests(IoBackendKind backend) : BackendFixture(backend)
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = CreateTempDirectory("miniss-alloc");

    [TearDown]
    public void TearDown() => DeleteDirectory(_directory);

    [Test, CancelAfter(30_000)]
    public async Task Ten_thousand_awaited_reads_of_a_cached_file_allocate_nothing_once_warm()
    {
        string path = Path.Combine(_directory, "cached");
        await File.WriteAllBytesAsync(path, RandomBytes(512, 1));
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (long allocated, long total) = await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
            FileDescriptorHandle handle = file.Handle;
            Memory<byte> buffer = new byte[512];
            long sum = 0;
            for (int i = 0; i < 1000; i++)
            {
                sum += await IoOperations.ReadAsync(handle, buffer, 0);
            }

            var windows = new AllocationWindows();
            while (windows.Next())
            {
                for (int i = 0; i < 10_000; i++)
                {
                    sum += await IoOperations.ReadAsync(handle, buffer, 0);
                }
            }

            return (windows.Least, sum - (windows.Count * 10_000L * 512));
        }).Within(25);

        Assert.That(total, Is.EqualTo(1_000L * 512), "every window's reads returned the whole file");
        Assert.That(allocated, Is.Zero);
    }

    [Test, CancelAfter(30_000)]
    public async Task Ten_thousand_awaited_nops_allocate_nothing_once_warm()
    {
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        long allocated = await runtime.SubmitTo(0, async () =>
        {
            for (int i = 0; i < 1000; i++)
            {
                await IoOperations.NopAsync();
            }

            var windows = new AllocationWindows();
            while (windows.Next())
            {
                for (int i = 0; i < 10_000; i++)
                {
                    await IoOperations.NopAsync();
                }
            }

            return windows.Least;
        }).Within(25);

        Assert.That(allocated, Is.Zero);
    }
}
