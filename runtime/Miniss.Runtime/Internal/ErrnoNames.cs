using System.Reflection;
using System.Runtime.InteropServices;
using LinuxErrno = Miniss.Bindings.Linux.Errno;

namespace Miniss.Internal;

/// <summary>The symbolic name of an errno value (<c>ECONNREFUSED</c>), for error messages.</summary>
/// <remarks>
/// Reached on the paths where the process is out of descriptors or memory (EMFILE on accept), so it must not load
/// anything then: the table is a plain array built by <see cref="IO.IoErrors.Prepare"/> when a runtime starts, and the
/// description comes from the C library through CoreLib (<see cref="Marshal.GetPInvokeErrorMessage"/>), not from an
/// assembly that would have to be opened at that moment.
/// </remarks>
internal static class ErrnoNames
{
    private static readonly string?[] s_names = Build();

    public static string Of(int errno) => (uint)errno < (uint)s_names.Length && s_names[errno] is { } name ? name : $"errno {errno}";

    /// <summary>"ENOENT (No such file or directory)": the name and the C library's description.</summary>
    public static string Describe(int errno) => $"{Of(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})";

    private static string?[] Build()
    {
        var names = new string?[256];
        foreach (FieldInfo field in typeof(LinuxErrno).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            // Aliases (EWOULDBLOCK = EAGAIN, ENOTSUP = EOPNOTSUPP): the first declared name wins.
            if (field.IsLiteral && field.GetRawConstantValue() is int value && (uint)value < (uint)names.Length)
            {
                names[value] ??= field.Name;
            }
        }

        return names;
    }
}
