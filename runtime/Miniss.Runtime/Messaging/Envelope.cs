using System.Runtime.CompilerServices;

namespace Miniss.Messaging;

/// <summary>
/// What one slot of a <see cref="CrossShardQueue"/> carries: either a <see cref="ShardMessage"/> object, or an inline
/// call, whose work, caller and result travel in the slot itself.
/// </summary>
/// <remarks>
/// An inline call exists so that the receiving shard reads nothing but the slot: the call's object (its awaitable,
/// pooled on the calling shard) rides along as an opaque reference and is touched only by the caller, so a round
/// trip moves the two slots' cache lines between the cores and none of the call's. Each line of a message object the
/// receiver reads is one more transfer there and one back, the largest cost of a round trip after the slots
/// themselves on machines where a transfer takes a few hundred nanoseconds.
/// <code>
///   Step       null: a message object (Message); otherwise the inline step to run on arrival (see InlineCall)
///   Message    the message object; for an inline call, its caller's awaitable (opaque to the executing shard)
///   Payload    an inline request: its work (a Func&lt;T&gt;); a reply: the result of a reference type, or the error
///   Value      an inline request: the calling shard's id; a reply: the result of an unmanaged type of at most 8 bytes
/// </code>
/// The step is a shared, immutable object per step and result type (a virtual call on it reads only its type's method
/// table, which both cores keep cached), not a function pointer: Native AOT's compiler cannot take the address of a
/// generic type's method from shared generic code.
/// </remarks>
internal struct Envelope
{
    public InlineStep? Step;
    public object? Message;
    public object? Payload;
    public long Value;

    /// <summary>An envelope carrying a message object.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Envelope Of(ShardMessage message) => new() { Message = message };

    /// <summary>Whether this envelope carries a message object (not an inline call).</summary>
    public readonly bool IsMessage => Step is null;
}
