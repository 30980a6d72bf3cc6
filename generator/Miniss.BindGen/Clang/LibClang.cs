using System.Runtime.InteropServices;

namespace Miniss.BindGen.Clang;

// The subset of the libclang C API (stable since clang 3.x, checked against clang 14) that BindGen uses.
// Opaque handles are nint; the small by-value structs below restate libclang's public layouts.

[StructLayout(LayoutKind.Sequential)]
internal struct CXString
{
    public nint Data;
    public uint PrivateFlags;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CXCursor
{
    public CXCursorKind Kind;
    public int XData;
    public fixed ulong Data[3];
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CXType
{
    public CXTypeKind Kind;
    public fixed ulong Data[2];
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CXSourceLocation
{
    public fixed ulong PtrData[2];
    public uint IntData;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CXUnsavedFile
{
    public byte* Filename;
    public byte* Contents;
    public nuint Length;
}

internal enum CXCursorKind
{
    StructDecl = 2,
    UnionDecl = 3,
    EnumDecl = 5,
    FieldDecl = 6,
    EnumConstantDecl = 7,
    FunctionDecl = 8,
    VarDecl = 9,
    ParmDecl = 10,
    TypedefDecl = 20,
    TranslationUnit = 300,
    MacroDefinition = 501,
}

internal enum CXTypeKind
{
    Invalid = 0,
    Void = 2,
    Bool = 3,
    Char_U = 4,
    UChar = 5,
    UShort = 8,
    UInt = 9,
    ULong = 10,
    ULongLong = 11,
    UInt128 = 12,
    Char_S = 13,
    SChar = 14,
    WChar = 15,
    Short = 16,
    Int = 17,
    Long = 18,
    LongLong = 19,
    Int128 = 20,
    Float = 21,
    Double = 22,
    Pointer = 101,
    Record = 105,
    Enum = 106,
    Typedef = 107,
    FunctionNoProto = 110,
    FunctionProto = 111,
    ConstantArray = 112,
    IncompleteArray = 114,
    Elaborated = 119,
}

internal enum CXChildVisitResult
{
    Break = 0,
    Continue = 1,
    Recurse = 2,
}

internal enum CXVisitorResult
{
    Break = 0,
    Continue = 1,
}

internal enum CXDiagnosticSeverity
{
    Ignored = 0,
    Note = 1,
    Warning = 2,
    Error = 3,
    Fatal = 4,
}

internal enum CXEvalResultKind
{
    Int = 1,
}

internal static unsafe partial class LibClang
{
    public const string Name = "libclang";

    public const uint CXTranslationUnit_DetailedPreprocessingRecord = 0x01;
    public const uint CXTranslationUnit_SkipFunctionBodies = 0x40;

    [LibraryImport(Name)] public static partial nint clang_createIndex(int excludeDeclarationsFromPch, int displayDiagnostics);
    [LibraryImport(Name)] public static partial void clang_disposeIndex(nint index);
    [LibraryImport(Name)]
    public static partial int clang_parseTranslationUnit2(nint index, byte* sourceFilename, byte** commandLineArgs, int numCommandLineArgs,
        CXUnsavedFile* unsavedFiles, uint numUnsavedFiles, uint options, nint* translationUnit);
    [LibraryImport(Name)] public static partial void clang_disposeTranslationUnit(nint translationUnit);
    [LibraryImport(Name)] public static partial uint clang_getNumDiagnostics(nint translationUnit);
    [LibraryImport(Name)] public static partial nint clang_getDiagnostic(nint translationUnit, uint index);
    [LibraryImport(Name)] public static partial CXDiagnosticSeverity clang_getDiagnosticSeverity(nint diagnostic);
    [LibraryImport(Name)] public static partial CXString clang_formatDiagnostic(nint diagnostic, uint options);
    [LibraryImport(Name)] public static partial uint clang_defaultDiagnosticDisplayOptions();
    [LibraryImport(Name)] public static partial void clang_disposeDiagnostic(nint diagnostic);
    [LibraryImport(Name)] public static partial byte* clang_getCString(CXString text);
    [LibraryImport(Name)] public static partial void clang_disposeString(CXString text);
    [LibraryImport(Name)] public static partial CXString clang_getClangVersion();
    [LibraryImport(Name)] public static partial CXCursor clang_getTranslationUnitCursor(nint translationUnit);
    [LibraryImport(Name)]
    public static partial uint clang_visitChildren(CXCursor parent, delegate* unmanaged<CXCursor, CXCursor, nint, CXChildVisitResult> visitor, nint clientData);
    [LibraryImport(Name)]
    public static partial uint clang_Type_visitFields(CXType type, delegate* unmanaged<CXCursor, nint, CXVisitorResult> visitor, nint clientData);
    [LibraryImport(Name)] public static partial CXCursorKind clang_getCursorKind(CXCursor cursor);
    [LibraryImport(Name)] public static partial CXString clang_getCursorSpelling(CXCursor cursor);
    [LibraryImport(Name)] public static partial CXString clang_getCursorUSR(CXCursor cursor);
    [LibraryImport(Name)] public static partial CXType clang_getCursorType(CXCursor cursor);
    [LibraryImport(Name)] public static partial uint clang_isCursorDefinition(CXCursor cursor);
    [LibraryImport(Name)] public static partial CXSourceLocation clang_getCursorLocation(CXCursor cursor);
    [LibraryImport(Name)] public static partial void clang_getSpellingLocation(CXSourceLocation location, nint* file, uint* line, uint* column, uint* offset);
    [LibraryImport(Name)] public static partial CXString clang_getFileName(nint file);
    [LibraryImport(Name)] public static partial CXType clang_getCanonicalType(CXType type);
    [LibraryImport(Name)] public static partial CXString clang_getTypeSpelling(CXType type);
    [LibraryImport(Name)] public static partial long clang_Type_getSizeOf(CXType type);
    [LibraryImport(Name)] public static partial long clang_Type_getAlignOf(CXType type);
    [LibraryImport(Name)] public static partial long clang_Cursor_getOffsetOfField(CXCursor cursor);
    [LibraryImport(Name)] public static partial uint clang_Cursor_isAnonymousRecordDecl(CXCursor cursor);
    [LibraryImport(Name)] public static partial uint clang_Cursor_isAnonymous(CXCursor cursor);
    [LibraryImport(Name)] public static partial uint clang_Cursor_isBitField(CXCursor cursor);
    [LibraryImport(Name)] public static partial int clang_getFieldDeclBitWidth(CXCursor cursor);
    [LibraryImport(Name)] public static partial uint clang_Cursor_isMacroFunctionLike(CXCursor cursor);
    [LibraryImport(Name)] public static partial CXType clang_getArrayElementType(CXType type);
    [LibraryImport(Name)] public static partial long clang_getArraySize(CXType type);
    [LibraryImport(Name)] public static partial CXType clang_getPointeeType(CXType type);
    [LibraryImport(Name)] public static partial CXCursor clang_getTypeDeclaration(CXType type);
    [LibraryImport(Name)] public static partial CXType clang_getTypedefDeclUnderlyingType(CXCursor cursor);
    [LibraryImport(Name)] public static partial CXType clang_getEnumDeclIntegerType(CXCursor cursor);
    [LibraryImport(Name)] public static partial CXType clang_getResultType(CXType functionType);
    [LibraryImport(Name)] public static partial int clang_getNumArgTypes(CXType functionType);
    [LibraryImport(Name)] public static partial CXType clang_getArgType(CXType functionType, uint index);
    [LibraryImport(Name)] public static partial uint clang_isFunctionTypeVariadic(CXType functionType);
    [LibraryImport(Name)] public static partial int clang_Cursor_getNumArguments(CXCursor cursor);
    [LibraryImport(Name)] public static partial CXCursor clang_Cursor_getArgument(CXCursor cursor, uint index);
    [LibraryImport(Name)] public static partial nint clang_Cursor_Evaluate(CXCursor cursor);
    [LibraryImport(Name)] public static partial CXEvalResultKind clang_EvalResult_getKind(nint result);
    [LibraryImport(Name)] public static partial uint clang_EvalResult_isUnsignedInt(nint result);
    [LibraryImport(Name)] public static partial ulong clang_EvalResult_getAsUnsigned(nint result);
    [LibraryImport(Name)] public static partial long clang_EvalResult_getAsLongLong(nint result);
    [LibraryImport(Name)] public static partial void clang_EvalResult_dispose(nint result);

    /// <summary>Copies a libclang string into a managed one and releases it.</summary>
    public static string Take(CXString text)
    {
        try
        {
            byte* chars = clang_getCString(text);
            return chars == null ? string.Empty : Marshal.PtrToStringUTF8((nint)chars) ?? string.Empty;
        }
        finally
        {
            clang_disposeString(text);
        }
    }
}
