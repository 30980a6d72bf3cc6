using System;
using System.IO;
using LinuxFiles = Miniss.Bindings.Linux.Files;

namespace Miniss.Storage;

/// <summary>Turns .NET's <see cref="FileMode"/> and <see cref="FileAccess"/> into <c>open(2)</c> flags.</summary>
internal static class FileOpenOptions
{
    public static int Flags(FileMode mode, FileAccess access, bool direct)
    {
        int flags = LinuxFiles.O_CLOEXEC | access switch
        {
            FileAccess.Read => LinuxFiles.O_RDONLY,
            FileAccess.Write => LinuxFiles.O_WRONLY,
            FileAccess.ReadWrite => LinuxFiles.O_RDWR,
            _ => throw new ArgumentOutOfRangeException(nameof(access), access, "not a FileAccess value"),
        };
        flags |= mode switch
        {
            FileMode.CreateNew => LinuxFiles.O_CREAT | LinuxFiles.O_EXCL,
            FileMode.Create => LinuxFiles.O_CREAT | LinuxFiles.O_TRUNC,
            FileMode.Open => 0,
            FileMode.OpenOrCreate => LinuxFiles.O_CREAT,
            FileMode.Truncate => LinuxFiles.O_TRUNC,
            FileMode.Append => LinuxFiles.O_CREAT | LinuxFiles.O_APPEND,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a FileMode value"),
        };
        if ((mode is FileMode.Create or FileMode.CreateNew or FileMode.Truncate or FileMode.Append) && access == FileAccess.Read)
        {
            throw new ArgumentException($"FileMode.{mode} needs write access.", nameof(access));
        }

        if (direct)
        {
            flags |= LinuxFiles.O_DIRECT;
        }

        return flags;
    }
}
