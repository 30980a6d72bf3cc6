namespace Miniss.IO;

/// <summary>The operations a backend can run. More arrive with the file and socket operations.</summary>
public enum IoOperationKind : byte
{
    /// <summary>Does nothing and completes with 0: measures the round trip through the backend.</summary>
    Nop,

    /// <summary>Completes after <see cref="IoOperation.Timeout"/> has passed (result <c>-ETIME</c>), or earlier when cancelled.</summary>
    Timeout,
}
