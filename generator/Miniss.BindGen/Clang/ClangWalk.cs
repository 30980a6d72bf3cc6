using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Miniss.BindGen.Clang;

/// <summary>Collects libclang's children and fields into lists, so the rest of BindGen never writes a callback.</summary>
internal static unsafe class ClangWalk
{
    public static List<CXCursor> Children(CXCursor parent)
    {
        var list = new List<CXCursor>();
        GCHandle handle = GCHandle.Alloc(list);
        try
        {
            _ = LibClang.clang_visitChildren(parent, &OnChild, GCHandle.ToIntPtr(handle));
        }
        finally
        {
            handle.Free();
        }

        return list;
    }

    public static List<CXCursor> Fields(CXType record)
    {
        var list = new List<CXCursor>();
        GCHandle handle = GCHandle.Alloc(list);
        try
        {
            _ = LibClang.clang_Type_visitFields(record, &OnField, GCHandle.ToIntPtr(handle));
        }
        finally
        {
            handle.Free();
        }

        return list;
    }

    public static string Spelling(CXCursor cursor) => LibClang.Take(LibClang.clang_getCursorSpelling(cursor));

    public static string Spelling(CXType type) => LibClang.Take(LibClang.clang_getTypeSpelling(type));

    /// <summary>
    /// The type's spelling with clang's description of unnamed types (<c>enum (unnamed enum at /path/x.h:1:12)</c>)
    /// reduced to <c>enum (unnamed)</c>: output must not depend on where the headers are.
    /// </summary>
    public static string CleanSpelling(CXType type) =>
        Regex.Replace(Spelling(type), @"\((unnamed|anonymous)( (struct|union|enum))? at [^)]*\)", "(unnamed)");

    public static CXType Canonical(CXType type) => LibClang.clang_getCanonicalType(type);

    /// <summary>The file and line a cursor is spelled at (empty for built-ins).</summary>
    public static (string File, int Line) Location(CXCursor cursor)
    {
        nint file;
        uint line, column, offset;
        LibClang.clang_getSpellingLocation(LibClang.clang_getCursorLocation(cursor), &file, &line, &column, &offset);
        return (file == 0 ? string.Empty : LibClang.Take(LibClang.clang_getFileName(file)), (int)line);
    }

    [UnmanagedCallersOnly]
    private static CXChildVisitResult OnChild(CXCursor cursor, CXCursor parent, nint data)
    {
        ((List<CXCursor>)GCHandle.FromIntPtr(data).Target!).Add(cursor);
        return CXChildVisitResult.Continue;
    }

    [UnmanagedCallersOnly]
    private static CXVisitorResult OnField(CXCursor cursor, nint data)
    {
        ((List<CXCursor>)GCHandle.FromIntPtr(data).Target!).Add(cursor);
        return CXVisitorResult.Continue;
    }
}
