using System;

namespace Miniss.Bindings;

/// <summary>The size and alignment clang computed for a generated record on its target, in bytes.</summary>
/// <param name="size">What <c>sizeof</c> gives in C.</param>
/// <param name="alignment">What <c>_Alignof</c> gives in C.</param>
[AttributeUsage(AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
public sealed class NativeLayoutAttribute(int size, int alignment) : Attribute
{
    /// <summary><c>sizeof</c> of the record in C, in bytes.</summary>
    public int Size { get; } = size;

    /// <summary><c>_Alignof</c> of the record in C, in bytes.</summary>
    public int Alignment { get; } = alignment;
}
