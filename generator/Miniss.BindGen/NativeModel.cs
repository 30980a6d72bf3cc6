using System.Collections.Generic;

namespace Miniss.BindGen;

// What BindGen learned from one header for one target, before any C# is written. Plain data: no libclang handles.

/// <summary>A C type as C# will spell it.</summary>
/// <param name="CSharp">The C# spelling (<c>uint</c>, <c>io_uring_sqe*</c>, <c>void*</c>).</param>
/// <param name="PointeeRecord">For a pointer to a record, that record's name: it becomes <c>void*</c> where the
/// record's layout differs per target.</param>
internal sealed record NativeType(string CSharp, string? PointeeRecord = null)
{
    /// <summary>The spelling to emit in a member shared by several targets: <c>void*</c> stands in for a pointer to
    /// a record that is not emitted, or whose layout differs per target.</summary>
    public string For(ISet<string> sharedRecords) =>
        PointeeRecord is not null && !sharedRecords.Contains(PointeeRecord) ? "void*" : CSharp;
}

internal enum FieldShape
{
    /// <summary>A scalar, pointer or record at a byte offset.</summary>
    Plain,
    /// <summary>A fixed-size array, emitted as an inline array.</summary>
    FixedBuffer,
    /// <summary>A flexible (or zero-length) array member: no storage, an address accessor.</summary>
    Flexible,
    /// <summary>A bitfield: a property over its storage unit.</summary>
    BitField,
}

internal sealed record NativeField(
    string Name,
    string CType,
    long Offset,
    long Size,
    FieldShape Shape,
    NativeType Type,
    long Count = 0,
    int BitOffset = 0,
    int BitWidth = 0,
    NativeRecord? NestedRecord = null);

/// <summary>A struct or union with clang's layout. Anonymous members are already flattened into <see cref="Fields"/>.</summary>
internal sealed record NativeRecord(
    string Name,
    string? CSpelling,
    bool IsUnion,
    long Size,
    long Alignment,
    long Pack,
    string SourceFile,
    IReadOnlyList<NativeField> Fields,
    IReadOnlyList<string> Dependencies);

internal sealed record NativeConstant(string Name, string CType, string CSharpType, bool IsUnsigned, ulong Bits, string Kind, string SourceFile, int Line)
{
    public long SignedValue => unchecked((long)Bits);
}

internal sealed record NativeParameter(string Name, string CType, NativeType Type);

internal sealed record NativeFunction(string Name, string CPrototype, NativeType ReturnType, IReadOnlyList<NativeParameter> Parameters);

/// <summary>Everything one recipe yields for one target.</summary>
internal sealed class TargetModel(Recipe recipe, TargetTriple target)
{
    public Recipe Recipe { get; } = recipe;
    public TargetTriple Target { get; } = target;
    public List<NativeRecord> Records { get; } = [];
    public List<NativeConstant> Constants { get; } = [];
    public List<NativeFunction> Functions { get; } = [];
}
