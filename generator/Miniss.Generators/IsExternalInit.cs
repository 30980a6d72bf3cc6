namespace System.Runtime.CompilerServices;

/// <summary>Lets records and init accessors compile for netstandard2.0, which the compiler loads generators on.</summary>
internal static class IsExternalInit;
