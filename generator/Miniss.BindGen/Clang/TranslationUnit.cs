using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace Miniss.BindGen.Clang;

/// <summary>One parsed C file. Disposing it releases clang's AST.</summary>
internal sealed unsafe class TranslationUnit : IDisposable
{
    private nint _handle;

    private TranslationUnit(nint handle) => _handle = handle;

    public CXCursor Cursor => LibClang.clang_getTranslationUnitCursor(_handle);

    /// <summary>
    /// Parses <paramref name="path"/> (or <paramref name="contents"/> in its place) for <paramref name="target"/>
    /// with nothing but <paramref name="includeDir"/> on the include path. Any warning or error is fatal and
    /// reported with its file, line and clang's words.
    /// </summary>
    public static TranslationUnit Parse(nint index, string path, string? contents, TargetTriple target, string includeDir, bool failOnDiagnostics = true)
    {
        string[] args =
        [
            "-x", "c", "-std=gnu11", "-target", target.Triple, "-nostdinc", "-ffreestanding", "-I", includeDir,
            "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-zero-length-array",
        ];

        var pinned = new List<nint>();
        try
        {
            byte** argv = stackalloc byte*[args.Length];
            for (int i = 0; i < args.Length; i++)
            {
                argv[i] = Utf8(args[i], pinned);
            }

            byte* file = Utf8(path, pinned);
            CXUnsavedFile unsaved = default;
            uint unsavedCount = 0;
            if (contents is not null)
            {
                unsaved.Filename = file;
                byte[] bytes = Encoding.UTF8.GetBytes(contents);
                nint buffer = Marshal.AllocHGlobal(bytes.Length + 1);
                pinned.Add(buffer);
                Marshal.Copy(bytes, 0, buffer, bytes.Length);
                ((byte*)buffer)[bytes.Length] = 0;
                unsaved.Contents = (byte*)buffer;
                unsaved.Length = (nuint)bytes.Length;
                unsavedCount = 1;
            }

            nint tu;
            int error = LibClang.clang_parseTranslationUnit2(index, file, argv, args.Length, &unsaved, unsavedCount,
                LibClang.CXTranslationUnit_DetailedPreprocessingRecord | LibClang.CXTranslationUnit_SkipFunctionBodies, &tu);
            if (error != 0 || tu == 0)
            {
                throw new BindGenException($"{path}: clang could not parse the file for {target} (libclang error {error}).");
            }

            var unit = new TranslationUnit(tu);
            if (failOnDiagnostics)
            {
                unit.ThrowOnDiagnostics(target);
            }

            return unit;
        }
        finally
        {
            foreach (nint p in pinned)
            {
                Marshal.FreeHGlobal(p);
            }
        }
    }

    /// <summary>Diagnostics of warning severity and above, formatted as <c>file:line:column: message</c>.</summary>
    public List<(CXDiagnosticSeverity Severity, string Text)> Diagnostics()
    {
        var list = new List<(CXDiagnosticSeverity, string)>();
        uint count = LibClang.clang_getNumDiagnostics(_handle);
        uint options = LibClang.clang_defaultDiagnosticDisplayOptions();
        for (uint i = 0; i < count; i++)
        {
            nint diagnostic = LibClang.clang_getDiagnostic(_handle, i);
            CXDiagnosticSeverity severity = LibClang.clang_getDiagnosticSeverity(diagnostic);
            if (severity >= CXDiagnosticSeverity.Warning)
            {
                list.Add((severity, LibClang.Take(LibClang.clang_formatDiagnostic(diagnostic, options))));
            }

            LibClang.clang_disposeDiagnostic(diagnostic);
        }

        return list;
    }

    private void ThrowOnDiagnostics(TargetTriple target)
    {
        List<(CXDiagnosticSeverity Severity, string Text)> diagnostics = Diagnostics();
        if (diagnostics.Count == 0)
        {
            return;
        }

        var message = new StringBuilder($"the header does not compile cleanly for {target}:");
        foreach ((_, string text) in diagnostics)
        {
            message.Append(Environment.NewLine).Append("  ").Append(text);
        }

        Dispose();
        throw new BindGenException(message.ToString());
    }

    private static byte* Utf8(string text, List<nint> owned)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        nint buffer = Marshal.AllocHGlobal(bytes.Length + 1);
        owned.Add(buffer);
        Marshal.Copy(bytes, 0, buffer, bytes.Length);
        ((byte*)buffer)[bytes.Length] = 0;
        return (byte*)buffer;
    }

    public void Dispose()
    {
        if (_handle != 0)
        {
            LibClang.clang_disposeTranslationUnit(_handle);
            _handle = 0;
        }
    }

}
