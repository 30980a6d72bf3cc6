using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Reflection;
using LinuxErrno = Miniss.Bindings.Linux.Errno;

namespace Miniss.Internal;

/// <summary>The symbolic name of an errno value (<c>ECONNREFUSED</c>), for error messages.</summary>
internal static class ErrnoNames
{
    private static readonly FrozenDictionary<int, string> s_names = Build();

    public static string Of(int errno) => s_names.TryGetValue(errno, out string? name) ? name : $"errno {errno}";

    /// <summary>"ENOENT (No such file or directory)": the name and the C library's description.</summary>
    public static string Describe(int errno) => $"{Of(errno)} ({new System.ComponentModel.Win32Exception(errno).Message})";

    private static FrozenDictionary<int, string> Build()
    {
        var names = new Dictionary<int, string>();
        foreach (FieldInfo field in typeof(LinuxErrno).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (field.IsLiteral && field.GetRawConstantValue() is int value)
            {
                // Aliases (EWOULDBLOCK = EAGAIN, ENOTSUP = EOPNOTSUPP): the first declared name wins.
                names.TryAdd(value, field.Name);
            }
        }

        return names.ToFrozenDictionary();
    }
}
