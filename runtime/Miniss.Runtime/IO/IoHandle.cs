namespace Miniss.IO;

/// <summary>Identifies an operation in flight on one backend, for <see cref="IoBackend.Cancel"/>.</summary>
/// <param name="UserData">The operation's <see cref="IoOperation.UserData"/>.</param>
public readonly record struct IoHandle(ulong UserData);
