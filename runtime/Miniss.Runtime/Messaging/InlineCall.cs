using System;
using System.Runtime.CompilerServices;

namespace Miniss.Messaging;

/// <summary>
/// Synchronous <c>SubmitTo</c> calls between shards carried inline in the ring's slots (see <see cref="Envelope"/>):
/// the request holds the work and the caller's shard id, the reply holds the result or the error; the calling shard's
/// <see cref="ShardCall{T}"/> rides along untouched and is completed when the reply arrives home.
/// </summary>
/// <typeparam name="T">The result's type: a reference type, or an unmanaged type of at most 8 bytes (see
/// <see cref="Supported"/>); other calls travel as message objects.</typeparam>
internal static class InlineCall<T>
{
    /// <summary>Whether a result of type <typeparamref name="T"/> fits in an envelope: a reference (in
    /// <see cref="Envelope.Payload"/>) or an unmanaged value of at most 8 bytes (in <see cref="Envelope.Value"/>).
    /// A constant for the JIT.</summary>
    public static bool Supported
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => !typeof(T).IsValueType || (!RuntimeHelpers.IsReferenceOrContainsReferences<T>() && Unsafe.SizeOf<T>() <= sizeof(long));
    }

    /// <summary>The request: <paramref name="work"/> to run on the target, answered to shard
    /// <paramref name="origin"/>'s <paramref name="call"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Envelope Request(ShardCall<T> call, Func<T> work, int origin) =>
        new() { Step = ExecuteStep.Instance, Message = call, Payload = work, Value = origin };

    /// <summary>On the target: runs the work (or, when <paramref name="refusal"/> is set, does not) and sends the
    /// reply home. The loop's read of the ring times it as a task.</summary>
    private static void Execute(ref Envelope request, Shard shard, Exception? refusal)
    {
        var work = (Func<T>)request.Payload!;
        object call = request.Message!;
        int origin = (int)request.Value;
        Envelope reply = new() { Message = call };
        if (refusal is not null)
        {
            reply.Step = FailStep.Instance;
            reply.Payload = refusal;
        }
        else
        {
            try
            {
                T result = work();
                reply.Step = CompleteStep.Instance;
                if (typeof(T).IsValueType)
                {
                    Unsafe.As<long, T>(ref reply.Value) = result;
                }
                else
                {
                    reply.Payload = result;
                }
            }
            catch (Exception e)
            {
                reply.Step = FailStep.Instance;
                reply.Payload = e;
            }
        }

        shard.Send(origin, reply);
    }

    /// <summary>At home: the work returned; completes the caller's await.</summary>
    private static void Complete(ref Envelope reply, Shard shard, Exception? refusal)
    {
        // A reply is always delivered, even to a stopping shard (refusal is ignored): its caller is waiting for it.
        T result = typeof(T).IsValueType ? Unsafe.As<long, T>(ref reply.Value) : (T)reply.Payload!;
        ((ShardCall<T>)reply.Message!).OnInlineReply(result, null);
    }

    /// <summary>At home: the work threw, or the target refused it; the caller's await throws.</summary>
    private static void Fail(ref Envelope reply, Shard shard, Exception? refusal) =>
        ((ShardCall<T>)reply.Message!).OnInlineReply(default!, (Exception)reply.Payload!);

    private sealed class ExecuteStep : InlineStep
    {
        public static readonly ExecuteStep Instance = Isolated.Allocate<ExecuteStep>();

        public override void Run(ref Envelope envelope, Shard shard, Exception? refusal) => Execute(ref envelope, shard, refusal);
    }

    private sealed class CompleteStep : InlineStep
    {
        public static readonly CompleteStep Instance = Isolated.Allocate<CompleteStep>();

        public override void Run(ref Envelope envelope, Shard shard, Exception? refusal) => Complete(ref envelope, shard, refusal);
    }

    private sealed class FailStep : InlineStep
    {
        public static readonly FailStep Instance = Isolated.Allocate<FailStep>();

        public override void Run(ref Envelope envelope, Shard shard, Exception? refusal) => Fail(ref envelope, shard, refusal);
    }
}

/// <summary>
/// Allocates an object that shards read on every message and nobody writes, so that no line it occupies is shared with
/// an object that is written: the GC heap packs objects side by side, and a step allocated next to, say, the first
/// call object of its type (which its caller writes per call) would make every message fetch that line from the
/// other core. A filler allocated on each side and kept alive keeps its neighbours a cache line away; the GC's
/// compaction slides surviving objects in order, so they stay around it.
/// </summary>
internal static class Isolated
{
    // Keeps the fillers alive (and so in place around the objects they isolate).
    private static readonly System.Collections.Generic.List<object> s_fillers = [];

    public static T Allocate<T>()
        where T : class, new()
    {
        lock (s_fillers)
        {
            s_fillers.Add(new byte[64]);
            T allocated = new();
            s_fillers.Add(new byte[64]);
            return allocated;
        }
    }
}

/// <summary>One step of an inline call (<see cref="InlineCall{T}"/>), run by the shard that reads its envelope; when
/// <c>refusal</c> is set, the shard is stopping and refuses the work.</summary>
internal abstract class InlineStep
{
    public abstract void Run(ref Envelope envelope, Shard shard, Exception? refusal);
}
