using System;

namespace Miniss.Bindings;

/// <summary>
/// Marks the accessor generated for a C flexible (or zero-length) array member, which has no storage of its own.
/// </summary>
/// <param name="name">The member's C name.</param>
/// <param name="offset">Its byte offset in the record, as <c>offsetof</c> gives it.</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class NativeFlexibleArrayAttribute(string name, int offset) : Attribute
{
    /// <summary>The member's C name.</summary>
    public string Name { get; } = name;

    /// <summary>The member's byte offset in the record.</summary>
    public int Offset { get; } = offset;
}
