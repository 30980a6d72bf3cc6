using System;

namespace Miniss.Bindings;

/// <summary>The C spelling of a generated type, field, constant or parameter (<c>struct io_uring_sqe</c>, <c>__u64</c>).</summary>
/// <param name="name">The C type or name as the header spells it.</param>
[AttributeUsage(AttributeTargets.Struct | AttributeTargets.Field | AttributeTargets.Parameter | AttributeTargets.ReturnValue | AttributeTargets.Property,
    AllowMultiple = false, Inherited = false)]
public sealed class NativeTypeNameAttribute(string name) : Attribute
{
    /// <summary>The C spelling.</summary>
    public string Name { get; } = name;
}
