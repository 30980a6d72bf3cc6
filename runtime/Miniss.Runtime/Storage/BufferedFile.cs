using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Miniss.IO;

namespace Miniss.Storage;

/// <summary>A file read and written through the page cache (no alignment requirements).</summary>
public sealed class BufferedFile : ShardFile
{
    /// <summary>The permissions of files created without explicit ones: rw-r--r--.</summary>
    public const UnixFileMode DefaultPermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private BufferedFile(FileDescriptorHandle handle, string path) : base(handle, path)
    {
    }

    /// <summary>Opens (or creates, per <paramref name="mode"/>) <paramref name="path"/> on the calling shard's ring.</summary>
    /// <param name="path">The file.</param>
    /// <param name="mode">Create, truncate, append... as <see cref="FileStream"/> understands them.</param>
    /// <param name="access">Read, write or both.</param>
    /// <param name="permissions">Permissions of a file this call creates (the umask applies).</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <exception cref="FileNotFoundException">The file does not exist and <paramref name="mode"/> does not create it.</exception>
    /// <exception cref="System.UnauthorizedAccessException">Permission denied.</exception>
    /// <exception cref="IOException">Another error (errno in <c>Data["errno"]</c>).</exception>
    public static async ValueTask<BufferedFile> OpenAsync(string path, FileMode mode, FileAccess access = FileAccess.ReadWrite,
        UnixFileMode permissions = DefaultPermissions, CancellationToken cancellationToken = default)
    {
        int flags = FileOpenOptions.Flags(mode, access, direct: false);
        FileDescriptorHandle handle = await OpenDescriptorAsync(path, flags, permissions, cancellationToken).ConfigureAwait(true);
        return new BufferedFile(handle, path);
    }
}
