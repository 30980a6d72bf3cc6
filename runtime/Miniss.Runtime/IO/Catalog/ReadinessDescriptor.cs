using Miniss.Bindings.Linux;

namespace Miniss.IO.Catalog;

/// <summary>
/// How a readiness backend (epoll, kqueue) runs one operation of the catalog, generated from its declaration: when it
/// runs (<see cref="Kind"/>), the function that makes its system call, what it does to the descriptor and whether it
/// may stream. A shard hands it over with the SQE (<see cref="IoBackend.DescribeLastSqe"/>); the backend copies it
/// into its record of the operation, so it holds no knowledge of operations of its own.
/// </summary>
/// <param name="kind">When and how the operation runs.</param>
/// <param name="perform">Makes the system call with the arguments the SQE holds; returns the result or <c>-errno</c>.
/// Null when <paramref name="kind"/> needs none.</param>
/// <param name="effects">What the operation means beyond its system call.</param>
/// <param name="stream">The direction a streaming operation waits for on a pollable descriptor, or <see cref="ReadinessKind.None"/>.</param>
/// <param name="performStream">The streaming path's system call (no offset), or null.</param>
internal readonly unsafe struct ReadinessDescriptor(
    ReadinessKind kind,
    delegate*<io_uring_sqe*, int> perform,
    ReadinessEffects effects,
    ReadinessKind stream,
    delegate*<io_uring_sqe*, int> performStream)
{
    /// <summary>When and how the operation runs.</summary>
    public readonly ReadinessKind Kind = kind;

    /// <summary>What the operation means beyond its system call.</summary>
    public readonly ReadinessEffects Effects = effects;

    /// <summary>The direction a streaming operation waits for on a pollable descriptor; <see cref="ReadinessKind.None"/>
    /// when it never streams.</summary>
    public readonly ReadinessKind Stream = stream;

    /// <summary>Makes the system call; returns the result or <c>-errno</c>.</summary>
    public readonly delegate*<io_uring_sqe*, int> Perform = perform;

    /// <summary>The streaming path's system call, without the offset.</summary>
    public readonly delegate*<io_uring_sqe*, int> PerformStream = performStream;

    /// <summary>Completes with 0 as soon as it is handed over: what a record that was replaced by a no-op (an injected
    /// fault) runs.</summary>
    public static ReadinessDescriptor Immediate => new(ReadinessKind.Immediate, null, ReadinessEffects.None, ReadinessKind.None, null);
}
