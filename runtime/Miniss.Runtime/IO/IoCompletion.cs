namespace Miniss.IO;

/// <summary>
/// The outcome of one operation: its <see cref="UserData"/>, the kernel's result (bytes transferred, a new file
/// descriptor or 0 on success; <c>-errno</c> on failure) and the completion's flags.
/// </summary>
/// <param name="UserData">The operation's <see cref="IoOperation.UserData"/>.</param>
/// <param name="Result">Non-negative on success, <c>-errno</c> on failure (for example <c>-ECANCELED</c>).</param>
/// <param name="Flags">The backend's completion flags (<c>IORING_CQE_F_*</c> on io_uring).</param>
public readonly record struct IoCompletion(ulong UserData, int Result, uint Flags)
{
    /// <summary>The handle of the operation that completed.</summary>
    public IoHandle Handle => new(UserData);

    /// <summary>Whether the operation failed; <see cref="Result"/> is then <c>-errno</c>.</summary>
    public bool Failed => Result < 0;
}
