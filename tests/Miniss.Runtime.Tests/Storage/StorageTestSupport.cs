using System;
using System.Buffers;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;
using LinuxFiles = Miniss.Bindings.Linux.Files;

namespace Miniss.Runtime.Tests.Storage;

/// <summary>Helpers shared by the file and raw I/O integration tests (Storage and IO folders).</summary>
internal static class StorageTestSupport
{
    /// <summary>A fresh directory under the temp directory (ext4 at /tmp on the test machine).</summary>
    public static string CreateTempDirectory(string prefix)
    {
        string path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    public static void DeleteDirectory(string? path)
    {
        if (path is not null && Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] RandomBytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>How many descriptors the process has open now, not counting assemblies the runtime maps when it first
    /// needs them (a stall report loads the logging assembly, an assertion loads NUnit's collections...).</summary>
    public static int OpenDescriptorCount() => OpenDescriptors().Count;

    // The descriptor of the listing itself: open while the entries are read, under whichever number was free, so it
    // would look like a new descriptor whenever that number differs between two listings.
    private static readonly string s_enumeration = $"/proc/{Environment.ProcessId}/fd";

    /// <summary>The process's descriptors and what they point to (assemblies and the listing's own directory left
    /// out), for diagnosing a leak.</summary>
    public static System.Collections.Generic.Dictionary<string, string> OpenDescriptors() =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd")
            .Select(entry => (Name: Path.GetFileName(entry), Target: LinkTarget(entry)))
            .Where(d => !d.Target.EndsWith(".dll", StringComparison.Ordinal) && d.Target != "(closed)" && d.Target != s_enumeration)
            .ToDictionary(d => d.Name, d => d.Target);

    private static string LinkTarget(string entry)
    {
        try
        {
            return new FileInfo(entry).LinkTarget ?? "?";
        }
        catch (IOException)
        {
            // The enumeration's own directory descriptor, gone by the time it is read.
            return "(closed)";
        }
    }

    /// <summary>The descriptors open now that were not in <paramref name="before"/> (or point elsewhere now).</summary>
    public static string NewDescriptors(System.Collections.Generic.Dictionary<string, string> before) =>
        string.Join(", ", OpenDescriptors().Where(d => !before.TryGetValue(d.Key, out string? target) || target != d.Value).Select(d => $"{d.Key} -> {d.Value}"));

    /// <summary>Waits (briefly) for the process's descriptor count to come back to <paramref name="expected"/>;
    /// returns the last count seen.</summary>
    public static async Task<int> SettledDescriptorCount(int expected, TimeSpan? within = null)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan limit = within ?? TimeSpan.FromSeconds(2);
        int count = OpenDescriptorCount();
        while (count != expected && clock.Elapsed < limit)
        {
            await Task.Delay(20);
            count = OpenDescriptorCount();
        }

        return count;
    }

    /// <summary>A pipe: reads on <c>Read</c> block until something is written to <c>Write</c>.</summary>
    public static unsafe (FileDescriptorHandle Read, FileDescriptorHandle Write) CreatePipe()
    {
        int* fds = stackalloc int[2];
        if (Libc.pipe2(fds, LinuxFiles.O_CLOEXEC) != 0)
        {
            throw new IOException($"pipe2 failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (new FileDescriptorHandle(fds[0]), new FileDescriptorHandle(fds[1]));
    }

    /// <summary>An eventfd (blocking reads): a read waits until the counter is non-zero.</summary>
    public static FileDescriptorHandle CreateEventFd()
    {
        int fd = Libc.eventfd(0, LinuxFiles.EFD_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return new FileDescriptorHandle(fd);
    }

    /// <summary>Writes <paramref name="data"/> to a descriptor synchronously (for pipes; not an operation under test).</summary>
    public static unsafe void WriteTo(FileDescriptorHandle handle, ReadOnlySpan<byte> data)
    {
        fixed (byte* bytes = data)
        {
            nint written = Libc.write(handle.Descriptor, bytes, (nuint)data.Length);
            if (written != data.Length)
            {
                throw new IOException($"write failed: {written}, errno {Marshal.GetLastPInvokeError()}");
            }
        }
    }

    /// <summary>Runs <paramref name="operation"/> and returns what it threw (null: it did not), so assertions run on the
    /// test thread and nothing blocks a shard.</summary>
    public static async ValueTask<Exception?> Capture(Func<ValueTask> operation)
    {
        try
        {
            await operation();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <inheritdoc cref="Capture(Func{ValueTask})"/>
    public static async ValueTask<Exception?> Capture<T>(Func<ValueTask<T>> operation)
    {
        try
        {
            await operation();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>Calls <paramref name="call"/> and returns what it threw before handing back its ValueTask (null: it
    /// returned one, which is then awaited so nothing is left pending).</summary>
    public static async ValueTask<Exception?> CaptureAtCall<T>(Func<ValueTask<T>> call)
    {
#pragma warning disable CA2012 // Stored only to separate a throw at the call from a failed await; awaited once below.
        ValueTask<T> started;
        try
        {
            started = call();
        }
        catch (Exception e)
        {
            return e;
        }
#pragma warning restore CA2012

        try
        {
            await started;
        }
        catch (Exception)
        {
            // Failing later is not failing at the call.
        }

        return null;
    }
}

/// <summary>Memory whose pin and release are observable: tells whether the kernel still holds it.</summary>
internal sealed unsafe class TrackedMemory : MemoryManager<byte>
{
    private readonly byte* _memory;
    private readonly int _length;
    private int _pins;
    private bool _disposed;

    public TrackedMemory(int length)
    {
        _length = length;
        _memory = (byte*)NativeMemory.AllocZeroed((nuint)length);
    }

    /// <summary>How many pins are held now.</summary>
    public int Pins => Volatile.Read(ref _pins);

    /// <summary>How many times a pin was released.</summary>
    public int Unpins { get; private set; }

    public override Span<byte> GetSpan() => new(_memory, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Interlocked.Increment(ref _pins);
        return new MemoryHandle(_memory + elementIndex, pinnable: this);
    }

    public override void Unpin()
    {
        Interlocked.Decrement(ref _pins);
        Unpins++;
    }

    protected override void Dispose(bool disposing)
    {
        if (!_disposed)
        {
            _disposed = true;
            NativeMemory.Free(_memory);
        }
    }
}
