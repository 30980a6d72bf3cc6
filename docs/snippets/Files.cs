using System;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Miniss.Buffers;
using Miniss.Storage;

namespace Miniss.Docs.Snippets;

/// <summary>The snippets of the files guide.</summary>
internal static class Files
{
    internal static async Task<string> BufferedAsync(MinissRuntime runtime, string path)
    {
        // <buffered>
        return await runtime.SubmitTo(0, async () =>
        {
            // Opened, written and read through shard 0's ring: no thread-pool thread blocks on the disk.
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Create);
            await file.WriteAllAsync(0, Encoding.UTF8.GetBytes("written by a shard\n"));
            await file.FlushDataAsync();                         // fdatasync

            byte[] buffer = new byte[(int)await file.GetLengthAsync()];
            int read = await file.ReadAsync(0, buffer);          // a positional read: files have no cursor
            return Encoding.UTF8.GetString(buffer, 0, read);
        });
        // </buffered>
    }

    internal static async Task DirectAsync(MinissRuntime runtime, string path)
    {
        // <direct>
        await runtime.SubmitTo(0, async () =>
        {
            await using DmaFile file = await DmaFile.OpenAsync(path, FileMode.Create);
            if (!file.IsDirect)
            {
                Console.WriteLine($"{path}: the file system refused O_DIRECT; the file is open buffered");
            }

            // Offsets, lengths and addresses must be aligned: AllocateBuffer gives memory aligned for this file.
            using AlignedBuffer block = file.AllocateBuffer(file.OffsetAlignment * 4);
            block.GetSpan().Fill((byte)'x');
            await file.WriteAsync(0, block.Memory);
            await file.FlushAsync();

            int read = await file.ReadAsync(0, block.Memory);
            Console.WriteLine($"read {read} bytes, alignment {file.OffsetAlignment} (offsets) and {file.MemoryAlignment} (memory)");
        });
        // </direct>
    }

    internal static async Task PooledAsync(MinissRuntime runtime, string path)
    {
        // <pooled>
        await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);

            // A buffer from the shard's pool: a fixed-buffer read when the pool is registered with the ring.
            (int read, BufferHandle buffer) = await file.ReadAsync(0, 64 * 1024);
            try
            {
                Console.WriteLine($"{read} bytes, fixed buffers: {Shard.Current!.HasFixedBuffers}");
            }
            finally
            {
                Shard.Current!.Buffers.Deallocate(buffer);       // the caller owns the buffer
            }
        });
        // </pooled>
    }

    internal static async Task FromAnyShardAsync(MinissRuntime runtime, string path)
    {
        // <any-shard>
        // The descriptor is process-wide: a file opened on one shard may be used on another (each operation goes
        // through the ring of the shard that calls it).
        BufferedFile file = await runtime.SubmitTo(0, () => BufferedFile.OpenAsync(path, FileMode.OpenOrCreate));
        await runtime.InvokeOnAll(async () =>
        {
            int id = Shard.Current!.Id;
            await file.WriteAsync(id * 8L, Encoding.ASCII.GetBytes($"shard {id,2}"));
        });
        await file.DisposeAsync();
        // </any-shard>
    }
}
