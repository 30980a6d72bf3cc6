using System;
using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;

namespace Miniss.IO;

/// <summary>
/// Owns a file descriptor. Operations in flight keep it referenced, so disposing the handle while one is pending
/// defers the <c>close</c> until the kernel's completion: the descriptor number is never reused under an operation.
/// </summary>
public sealed class FileDescriptorHandle : SafeHandle
{
    /// <summary>Takes ownership of <paramref name="fd"/>; the handle closes it.</summary>
    public FileDescriptorHandle(int fd) : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    /// <summary>Takes ownership of <paramref name="fd"/>, opened from <paramref name="path"/> (named in the errors of
    /// operations on it).</summary>
    public FileDescriptorHandle(int fd, string? path) : this(fd) => Path = path;

    /// <summary>The path the descriptor was opened from, if known; errors of operations on it name it.</summary>
    public string? Path { get; }

    /// <summary>The descriptor number (valid while the handle is open).</summary>
    public int Descriptor => (int)DangerousGetHandle();

    /// <inheritdoc/>
    public override bool IsInvalid => (int)handle < 0;

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        // Before the close: once closed, the number may name a new file, which readiness backends must not mistake
        // for this one.
        Readiness.ReadinessBackend.OnDescriptorClosed((int)handle);
        bool closed = Libc.close((int)handle) == 0;
        Internal.DescriptorReserve.OnDescriptorClosed();
        return closed;
    }
}
