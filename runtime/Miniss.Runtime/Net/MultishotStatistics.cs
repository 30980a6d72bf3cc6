namespace Miniss;

/// <summary>
/// A snapshot of one shard's multishot receives and accepts and of its provided-buffer ring (see
/// <see cref="RuntimeOptions.ReceiveBufferCount"/>). Read from any thread; values may be a moment old.
/// </summary>
/// <param name="ShardId">The shard.</param>
/// <param name="BufferRingRegistered">Whether the shard's provided-buffer ring is registered with its io_uring ring
/// (it is set up the first time a connection of the shard receives; false when turned off or refused by the kernel).</param>
/// <param name="BufferCount">How many buffers the ring holds.</param>
/// <param name="BufferSize">The size of each buffer, in bytes.</param>
/// <param name="BuffersInUse">Buffers holding received data that no receive has consumed yet (the kernel cannot fill
/// them until then). Back to 0 once every connection has read or dropped what it received.</param>
/// <param name="BuffersFilled">How many buffers the kernel has filled since the ring was set up.</param>
/// <param name="ReceivesArmed">Multishot receives armed (one per connection, again after the ring ran dry).</param>
/// <param name="BufferStarvations">Times a multishot receive ended because the ring had no free buffer
/// (<c>ENOBUFS</c>); it is armed again once received data is consumed.</param>
/// <param name="SingleShotReceives">Receives of connections in multishot mode that went to the kernel as single-shot
/// receives into the caller's memory, because the ring had no free buffer or the kernel refused multishot receives.</param>
/// <param name="AcceptsArmed">Multishot accepts armed.</param>
/// <param name="Accepted">Connections accepted by multishot accepts.</param>
public readonly record struct MultishotStatistics(
    int ShardId,
    bool BufferRingRegistered,
    int BufferCount,
    int BufferSize,
    int BuffersInUse,
    long BuffersFilled,
    long ReceivesArmed,
    long BufferStarvations,
    long SingleShotReceives,
    long AcceptsArmed,
    long Accepted);
