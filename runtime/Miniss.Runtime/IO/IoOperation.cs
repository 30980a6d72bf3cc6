using System;

namespace Miniss.IO;

/// <summary>
/// One operation for an <see cref="IIoBackend"/>: what to do and the caller's <see cref="UserData"/>, which comes
/// back unchanged in the operation's <see cref="IoCompletion"/>. A plain value: building one allocates nothing.
/// </summary>
public readonly record struct IoOperation
{
    /// <summary>What the operation does.</summary>
    public IoOperationKind Kind { get; init; }

    /// <summary>The caller's identifier for the operation, unique among its operations in flight. The values with
    /// the top bit set are reserved for the backend's own use.</summary>
    public ulong UserData { get; init; }

    /// <summary>For <see cref="IoOperationKind.Timeout"/>: how long to wait.</summary>
    public TimeSpan Timeout { get; init; }

    /// <summary>A no-op that completes with 0.</summary>
    public static IoOperation Nop(ulong userData) => new() { Kind = IoOperationKind.Nop, UserData = userData };

    /// <summary>An operation that completes after <paramref name="timeout"/> with <c>-ETIME</c>.</summary>
    public static IoOperation TimeoutAfter(TimeSpan timeout, ulong userData) =>
        new() { Kind = IoOperationKind.Timeout, Timeout = timeout, UserData = userData };
}
