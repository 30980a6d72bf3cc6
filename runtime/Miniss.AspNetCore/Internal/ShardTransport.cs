using System.IO.Pipelines;

namespace Miniss.AspNetCore.Internal;

/// <summary>What the connections of one shard share: the shard's scheduler, its memory pool, and the options their
/// pipes are made with (built once per shard).</summary>
internal sealed class ShardTransport
{
    public ShardTransport(Shard shard, MinissTransportOptions options)
    {
        Shard = shard;
        Scheduler = new ShardScheduler(shard);
        Pool = new ShardMemoryPool(shard, options.MemoryBlockSize, options.MaxRetainedBlocks);
        PipeScheduler application = options.InlineScheduling ? PipeScheduler.Inline : Scheduler;

        // The transport's own ends (the receive loop writes the input, the send loop reads the output) always resume on
        // the shard: their loops use the connection, which only its shard may. Queuing the send loop also batches
        // the flushes of one tick into one send.
        Input = new PipeOptions(Pool, readerScheduler: application, writerScheduler: Scheduler,
            pauseWriterThreshold: options.MaxBufferedInput, resumeWriterThreshold: options.MaxBufferedInput / 2,
            minimumSegmentSize: options.MemoryBlockSize, useSynchronizationContext: false);
        Output = new PipeOptions(Pool, readerScheduler: Scheduler, writerScheduler: application,
            pauseWriterThreshold: options.MaxBufferedOutput, resumeWriterThreshold: options.MaxBufferedOutput / 2,
            minimumSegmentSize: options.MemoryBlockSize, useSynchronizationContext: false);
        MinimumReceive = options.MemoryBlockSize / 2;
    }

    public Shard Shard { get; }

    public ShardScheduler Scheduler { get; }

    public ShardMemoryPool Pool { get; }

    /// <summary>The input pipe's options: written by the receive loop, read by Kestrel.</summary>
    public PipeOptions Input { get; }

    /// <summary>The output pipe's options: written by Kestrel, read by the send loop.</summary>
    public PipeOptions Output { get; }

    /// <summary>The least free space a receive is given, in bytes: half a block.</summary>
    public int MinimumReceive { get; }
}
