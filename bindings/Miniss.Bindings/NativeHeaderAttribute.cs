using System;

namespace Miniss.Bindings;

/// <summary>The header of <c>native-headers</c> a generated record or constant class was read from (<c>io_uring.h</c>).</summary>
/// <param name="fileName">The header's file name within its OS family's folder.</param>
[AttributeUsage(AttributeTargets.Struct | AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NativeHeaderAttribute(string fileName) : Attribute
{
    /// <summary>The header's file name.</summary>
    public string FileName { get; } = fileName;
}
