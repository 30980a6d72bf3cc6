using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Miniss.BindGen.Clang;

/// <summary>
/// Finds libclang on the machine: the path in <c>MINISS_LIBCLANG</c> first, then the usual names of the shared
/// library, newest version first. Every P/Invoke of <see cref="LibClang"/> resolves to the library found here.
/// </summary>
internal static class LibClangLoader
{
    public const string OverrideVariable = "MINISS_LIBCLANG";

    private static nint s_handle;

    public static string? LoadedFrom { get; private set; }

    public static void EnsureLoaded()
    {
        if (s_handle != 0)
        {
            return;
        }

        var tried = new List<string>();
        string? requested = Environment.GetEnvironmentVariable(OverrideVariable);
        if (!string.IsNullOrWhiteSpace(requested))
        {
            // An explicit request is honoured or reported, never silently replaced by another libclang.
            if (!NativeLibrary.TryLoad(requested, out s_handle))
            {
                throw new BindGenException(
                    $"libclang could not be loaded from {OverrideVariable}={requested}. Point {OverrideVariable} at a libclang " +
                    "shared library (for example libclang-14.so.1), or unset it to search the usual places.");
            }

            LoadedFrom = requested;
        }
        else
        {
            foreach (string candidate in Candidates())
            {
                tried.Add(candidate);
                if (NativeLibrary.TryLoad(candidate, out s_handle))
                {
                    LoadedFrom = candidate;
                    break;
                }
            }

            if (s_handle == 0)
            {
                throw new BindGenException(
                    "libclang was not found. Install it (Debian/Ubuntu: apt-get install libclang1-14; Fedora: dnf install clang-libs; " +
                    $"macOS: xcode-select --install) or set {OverrideVariable} to the library's path. Tried: {string.Join(", ", tried)}.");
            }
        }

        NativeLibrary.SetDllImportResolver(typeof(LibClangLoader).Assembly, Resolve);
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == LibClang.Name ? s_handle : 0;

    private static IEnumerable<string> Candidates()
    {
        if (OperatingSystem.IsMacOS())
        {
            yield return "libclang.dylib";
            yield return "/Library/Developer/CommandLineTools/usr/lib/libclang.dylib";
            yield return "/Applications/Xcode.app/Contents/Developer/Toolchains/XcodeDefault.xctoolchain/usr/lib/libclang.dylib";
            yield break;
        }

        yield return "libclang.so";
        for (int version = 20; version >= 11; version--)
        {
            yield return $"libclang-{version}.so.1";
            yield return $"libclang.so.{version}";
            string llvm = $"/usr/lib/llvm-{version}/lib/libclang.so.1";
            if (File.Exists(llvm))
            {
                yield return llvm;
            }
        }

        yield return "libclang.so.1";
    }
}
