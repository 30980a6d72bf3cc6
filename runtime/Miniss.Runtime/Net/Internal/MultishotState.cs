namespace Miniss.Net.Internal;

/// <summary>Where a <see cref="MultishotStream"/>'s operation stands in the kernel. Changed on its shard only.</summary>
/// <remarks>
/// <code>
///   Idle ──TryArm──► Armed ──RequestCancel──► Cancelling
///    ▲                 │                          │
///    └─ last completion (no IORING_CQE_F_MORE) ───┘   ──► Idle, or Unsupported when the kernel refused the
///                                                         multishot form (EINVAL before it ever worked)
/// </code>
/// </remarks>
internal enum MultishotState : byte
{
    /// <summary>Nothing in the kernel: armed again when someone waits. Set at construction and by the last completion.</summary>
    Idle,

    /// <summary>In the kernel, completing once per item (a buffer of data, a connection). Set by <c>TryArm</c>.</summary>
    Armed,

    /// <summary>In the kernel, asked to stop (a full queue, a pause, a dispose): its last completion is on the way.
    /// Set by <c>RequestCancel</c>; left by the last completion.</summary>
    Cancelling,

    /// <summary>Terminal: the kernel lacks the multishot form of the operation; the stream's users go single-shot.
    /// Set by the subclass from the last completion.</summary>
    Unsupported,
}
