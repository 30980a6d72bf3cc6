using System;
using System.Collections.Generic;
using System.IO;
using Miniss.BindGen.Clang;

namespace Miniss.BindGen;

/// <summary>Turns one clang record type into a <see cref="NativeRecord"/>, flattening anonymous members as C does.</summary>
internal sealed class RecordBuilder(HeaderReader.Scope scope, Recipe recipe, TargetTriple target)
{
    /// <summary>Named records this record embeds by value or points to; they are emitted too.</summary>
    public List<(CXType Type, string Name)> Referenced { get; } = [];

    public NativeRecord Build(CXType type, string name, string? cSpelling)
    {
        CXType canonical = ClangWalk.Canonical(type);
        long size = LibClang.clang_Type_getSizeOf(canonical);
        long alignment = LibClang.clang_Type_getAlignOf(canonical);
        if (size < 0 || alignment <= 0)
        {
            throw new BindGenException($"{recipe.RecipePath}: record '{name}' is incomplete for {target} (clang reports size {size}).");
        }

        CXCursor declaration = LibClang.clang_getTypeDeclaration(canonical);
        var fields = new List<NativeField>();
        var dependencies = new List<string>();
        long widest = 1;
        AddFields(canonical, 0, name, fields, dependencies, ref widest);
        (string file, _) = ClangWalk.Location(declaration);
        return new NativeRecord(
            name,
            cSpelling,
            LibClang.clang_getCursorKind(declaration) == CXCursorKind.UnionDecl,
            size,
            alignment,
            widest > alignment ? alignment : 0,
            Path.GetFileName(file),
            fields,
            dependencies);
    }

    private void AddFields(CXType record, long baseBits, string owner, List<NativeField> fields, List<string> dependencies, ref long widest)
    {
        foreach (CXCursor field in ClangWalk.Fields(record))
        {
            string name = ClangWalk.Spelling(field);
            long bits = baseBits + LibClang.clang_Cursor_getOffsetOfField(field);
            CXType declared = LibClang.clang_getCursorType(field);
            CXType type = ClangWalk.Canonical(declared);
            string cType = ClangWalk.CleanSpelling(declared);
            long size = LibClang.clang_Type_getSizeOf(type);
            widest = Math.Max(widest, Math.Max(1, LibClang.clang_Type_getAlignOf(type)));

            if (LibClang.clang_Cursor_isBitField(field) != 0)
            {
                int width = LibClang.clang_getFieldDeclBitWidth(field);
                (string storage, _) = IntegerType(type, forConstant: false)
                    ?? throw Unsupported(owner, name, cType, "a bitfield must have an integer type");
                long unitBits = size * 8;
                long unitOffset = bits / unitBits * size;
                int shift = (int)(bits - unitOffset * 8);
                if (shift + width > unitBits)
                {
                    throw Unsupported(owner, name, cType, "the bitfield straddles two storage units");
                }

                fields.Add(new NativeField(name, cType, unitOffset, size, FieldShape.BitField, new NativeType(storage), BitOffset: shift, BitWidth: width));
                continue;
            }

            if (type.Kind == CXTypeKind.Record)
            {
                CXCursor declaration = LibClang.clang_getTypeDeclaration(type);
                if (name.Length == 0 || LibClang.clang_Cursor_isAnonymousRecordDecl(declaration) != 0)
                {
                    // An anonymous struct or union member: its fields belong to the enclosing record, as in C.
                    AddFields(type, bits, owner, fields, dependencies, ref widest);
                    continue;
                }

                string? recordName = HeaderReader.Scope.NameOf(type);
                if (recordName is null)
                {
                    // A named member of an unnamed record type: emitted as a type nested in the owner.
                    bool union = LibClang.clang_getCursorKind(declaration) == CXCursorKind.UnionDecl;
                    string nestedName = $"_{name}_e__{(union ? "Union" : "Struct")}";
                    var nestedBuilder = new RecordBuilder(scope, recipe, target);
                    NativeRecord nested = nestedBuilder.Build(type, nestedName, null);
                    Referenced.AddRange(nestedBuilder.Referenced);
                    dependencies.AddRange(nested.Dependencies);
                    // clang spells an unnamed record with the path of its header; the C spelling kept is just its kind.
                    fields.Add(new NativeField(name, union ? "union" : "struct", bits / 8, size, FieldShape.Plain, new NativeType(nestedName), NestedRecord: nested));
                    continue;
                }

                Referenced.Add((type, recordName));
                dependencies.Add(recordName);
                fields.Add(new NativeField(name, cType, bits / 8, size, FieldShape.Plain, new NativeType(recordName)));
                continue;
            }

            if (type.Kind is CXTypeKind.ConstantArray or CXTypeKind.IncompleteArray)
            {
                long count = 1;
                CXType element = type;
                while (element.Kind is CXTypeKind.ConstantArray or CXTypeKind.IncompleteArray)
                {
                    count *= element.Kind == CXTypeKind.ConstantArray ? LibClang.clang_getArraySize(element) : 0;
                    element = ClangWalk.Canonical(LibClang.clang_getArrayElementType(element));
                }

                NativeType elementType = MapElement(element, owner, name, cType, dependencies);
                fields.Add(count == 0
                    ? new NativeField(name, cType, bits / 8, 0, FieldShape.Flexible, elementType)
                    : new NativeField(name, cType, bits / 8, size, FieldShape.FixedBuffer, elementType, Count: count));
                continue;
            }

            fields.Add(new NativeField(name, cType, bits / 8, size, FieldShape.Plain, MapScalar(declared, $"field {owner}.{name}")));
        }
    }

    private NativeType MapElement(CXType element, string owner, string field, string cType, List<string> dependencies)
    {
        if (element.Kind == CXTypeKind.Record)
        {
            string? recordName = HeaderReader.Scope.NameOf(element) ?? throw Unsupported(owner, field, cType, "arrays of unnamed records are not supported");
            Referenced.Add((element, recordName));
            dependencies.Add(recordName);
            return new NativeType(recordName);
        }

        return MapScalar(element, $"field {owner}.{field}");
    }

    /// <summary>Maps a scalar C type (integer, floating point, enum or pointer) to its C# spelling.</summary>
    public NativeType MapScalar(CXType declared, string what)
    {
        CXType type = ClangWalk.Canonical(declared);
        switch (type.Kind)
        {
            case CXTypeKind.Float:
                return new NativeType("float");
            case CXTypeKind.Double:
                return new NativeType("double");
            case CXTypeKind.Enum:
                CXType integer = LibClang.clang_getEnumDeclIntegerType(LibClang.clang_getTypeDeclaration(type));
                return new NativeType(IntegerType(ClangWalk.Canonical(integer), forConstant: false)!.Value.CSharp);
            case CXTypeKind.Pointer:
                CXType pointee = ClangWalk.Canonical(LibClang.clang_getPointeeType(type));
                if (pointee.Kind == CXTypeKind.Record)
                {
                    string? recordName = HeaderReader.Scope.NameOf(pointee);
                    return recordName is null ? new NativeType("void*") : new NativeType(recordName + "*", recordName);
                }

                if (pointee.Kind is CXTypeKind.Void or CXTypeKind.FunctionProto or CXTypeKind.FunctionNoProto)
                {
                    return new NativeType("void*");
                }

                if (pointee.Kind is CXTypeKind.Char_S or CXTypeKind.Char_U)
                {
                    return new NativeType("byte*");
                }

                NativeType inner = MapScalar(pointee, what);
                return new NativeType(inner.PointeeRecord is null ? inner.CSharp + "*" : "void**");
        }

        if (IntegerType(type, forConstant: false) is (string csharp, _))
        {
            return new NativeType(csharp);
        }

        throw new BindGenException($"{recipe.RecipePath}: {what} has type '{ClangWalk.Spelling(declared)}', which BindGen cannot map (target {target}).");
    }

    /// <summary>
    /// The C# integer type of a canonical C integer type. Plain <c>char</c> is <c>byte</c> whatever its signedness on the
    /// target (signed on x86_64, unsigned on Linux arm64), so character buffers do not split layouts per target; a constant of type
    /// plain <c>char</c> keeps its signedness. C <c>long</c> is pointer-sized on every supported target:
    /// <c>nint</c> in layouts and signatures, <c>long</c> for constants (a C# constant of type nint is limited to 32 bits).
    /// </summary>
    public static (string CSharp, bool Unsigned)? IntegerType(CXType canonical, bool forConstant = true) => canonical.Kind switch
    {
        CXTypeKind.Bool => ("byte", true),
        CXTypeKind.SChar => ("sbyte", false),
        CXTypeKind.Char_S => (forConstant ? "sbyte" : "byte", false),
        CXTypeKind.Char_U or CXTypeKind.UChar => ("byte", true),
        CXTypeKind.Short => ("short", false),
        CXTypeKind.UShort => ("ushort", true),
        CXTypeKind.Int => ("int", false),
        CXTypeKind.UInt => ("uint", true),
        CXTypeKind.Long => (forConstant ? "long" : "nint", false),
        CXTypeKind.ULong => (forConstant ? "ulong" : "nuint", true),
        CXTypeKind.LongLong => ("long", false),
        CXTypeKind.ULongLong => ("ulong", true),
        _ => null,
    };

    private BindGenException Unsupported(string owner, string field, string cType, string why) =>
        new($"{recipe.RecipePath}: field {owner}.{field} ({cType}): {why} (target {target}).");
}
