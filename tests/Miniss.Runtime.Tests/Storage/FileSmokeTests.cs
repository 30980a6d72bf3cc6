using Miniss.IO;
using System;
using System.IO;
using System.Threading.Tasks;
using Miniss.Storage;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Storage;

[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
public sealed class FileSmokeTests(IoBackendKind backend) : BackendFixture(backend)
{
    [Test, CancelAfter(20000)]
    public async Task Write_then_read_back()
    {
        string path = Path.Combine(Path.GetTempPath(), "miniss-smoke-" + Guid.NewGuid().ToString("N"));
        await using var runtime = MinissRuntime.Start(new RuntimeOptions { Backend = Backends.Current, ShardCount = 2 });
        try
        {
            (int read, long length, bool direct, string text) = await runtime.SubmitTo(1, async () =>
            {
                await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Create);
                await file.WriteAllAsync(10, "hello miniss"u8.ToArray());
                await file.FlushAsync();
                byte[] back = new byte[64];
                int n = await file.ReadAsync(0, back);
                long len = await file.GetLengthAsync();
                await using DmaFile dma = await DmaFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
                using AlignedBuffer buffer = dma.AllocateBuffer(4096);
                int d = await dma.ReadAsync(0, buffer.Memory);
                return (n, len, dma.IsDirect, System.Text.Encoding.ASCII.GetString(back, 10, n - 10) + "/" + d);
            });
            Assert.That(read, Is.EqualTo(22));
            Assert.That(length, Is.EqualTo(22));
            Assert.That(text, Is.EqualTo("hello miniss/22"));
            Assert.That(direct, Is.True);
            var missing = Assert.ThrowsAsync<FileNotFoundException>(async () => await runtime.SubmitTo(0, async () => { await using var f = await BufferedFile.OpenAsync(path + ".missing", FileMode.Open); return 1; }));
            Assert.That(missing!.Message, Does.Contain("ENOENT"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
