namespace Miniss.Soak;

/// <summary>What one churn connection does, chosen by its number modulo 10 (<see cref="ChurnClient.OperationOf"/>).</summary>
internal enum ChurnOperation
{
    /// <summary>Numbers 0-5: sends whole requests (1-3 pipelined HTTP requests, or 64 B-16 KiB of echo), reads and
    /// checks every answer, then closes (or, for HTTP, asks the server to close with "Connection: close").</summary>
    Complete,

    /// <summary>Number 6: sends half a request, shuts its side down (FIN) and expects the server to close.</summary>
    HalfWrittenClose,

    /// <summary>Number 7: sends a whole request and resets (SO_LINGER 0) before the answer comes.</summary>
    ResetBeforeAnswer,

    /// <summary>Number 8: sends half a request and resets.</summary>
    HalfWrittenReset,

    /// <summary>Number 9: sends a long stream (256 pipelined HTTP requests, or 64 KiB of echo), reads the first bytes
    /// of the answer and resets while the server is still writing.</summary>
    ResetMidStream,
}
