using System;
using System.Collections.Generic;
using System.Numerics;
using System.Threading;
using Miniss.Bindings.Linux;

namespace Miniss.IO.FaultInjection;

/// <summary>
/// A seeded random schedule of engine faults, for tests: which kinds (<see cref="Kinds"/>), how often
/// (<see cref="Rate"/>, the chance at each point where a fault of an enabled kind could strike), which errors an
/// operation may fail with and which opcodes may be hit. Each shard draws from its own generator, seeded from
/// <see cref="Seed"/> and the shard's id, so a run that failed can be replayed with the same seed (the decisions
/// repeat as far as the order of events on each shard repeats).
/// </summary>
/// <remarks>Thread-safe: the injection counters are updated atomically, and eventfd writes (made from any thread)
/// draw from a generator of their own under a lock.</remarks>
internal sealed class FaultSchedule
{
    /// <summary>The errors injected by default: descriptor and memory exhaustion, would-block, interrupted, cancelled
    /// and reset.</summary>
    public static readonly IReadOnlyList<int> DefaultErrors =
        [Errno.EMFILE, Errno.ENFILE, Errno.ENOMEM, Errno.EAGAIN, Errno.EINTR, Errno.ECANCELED, Errno.ECONNRESET];

    private readonly bool[] _opcodes = new bool[256];
    private readonly long[] _injected = new long[BitOperations.PopCount((uint)FaultKinds.All)];
    private readonly Random _eventFdRandom;
    private readonly object _eventFdGate = new();
    private long _total;

    /// <param name="seed">Seeds every generator the schedule hands out.</param>
    /// <param name="rate">The chance, from 0 to 1, that a fault of an enabled kind strikes where it could.</param>
    /// <param name="kinds">The kinds of fault to inject. Default: all.</param>
    /// <param name="errors">The errno values an operation may fail with. Default: <see cref="DefaultErrors"/>.</param>
    /// <param name="opcodes">The <c>IORING_OP_*</c> codes whose operations may fail or be shortened. Default: every
    /// operation of the catalog but <c>close</c> (a close always releases the descriptor, so failing it before it
    /// ran would leak one).</param>
    /// <param name="limit">The most faults injected in all (then none). Default: no limit.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1], an error is not
    /// positive, or <paramref name="limit"/> is negative.</exception>
    public FaultSchedule(int seed, double rate, FaultKinds kinds = FaultKinds.All, IReadOnlyList<int>? errors = null, IEnumerable<byte>? opcodes = null,
        long limit = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (rate is < 0 or > 1 || double.IsNaN(rate))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "the fault rate is a chance between 0 and 1");
        }

        Errors = errors ?? DefaultErrors;
        foreach (int errno in Errors)
        {
            if (errno <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(errors), errno, "an injected error is a positive errno value");
            }
        }

        if (Errors.Count == 0 && (kinds & FaultKinds.ErrorResults) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(errors), "error results need at least one errno value to inject");
        }

        Seed = seed;
        Rate = rate;
        Limit = limit;
        Kinds = kinds;
        foreach (byte opcode in opcodes ?? DefaultOpcodes())
        {
            _opcodes[opcode] = true;
        }

        _eventFdRandom = new Random(seed ^ 0x5EED_EFD);
    }

    /// <summary>Tests only: the schedule every <see cref="RuntimeOptions"/> created from now on injects unless it
    /// names its own (a test run sets it once to put a whole suite under faults). Default: none.</summary>
    internal static FaultSchedule? Ambient { get; set; }

    /// <summary>The seed the schedule's generators start from.</summary>
    public int Seed { get; }

    /// <summary>The chance, from 0 to 1, that a fault of an enabled kind strikes where it could.</summary>
    public double Rate { get; }

    /// <summary>The most faults injected in all.</summary>
    public long Limit { get; }

    /// <summary>The kinds of fault injected.</summary>
    public FaultKinds Kinds { get; }

    /// <summary>The errno values an operation may fail with.</summary>
    public IReadOnlyList<int> Errors { get; }

    /// <summary>Whether operations with <paramref name="opcode"/> may fail or be shortened.</summary>
    public bool Targets(byte opcode) => _opcodes[opcode];

    /// <summary>How many faults of <paramref name="kind"/> (one kind) have been injected so far, on every shard.</summary>
    public long Injected(FaultKinds kind) => Interlocked.Read(ref _injected[IndexOf(kind)]);

    /// <summary>How many faults have been injected so far, of every kind.</summary>
    public long InjectedTotal() => Interlocked.Read(ref _total);

    /// <summary>A generator for the shard <paramref name="shardId"/>: the same seed and shard give the same sequence.</summary>
    internal Random CreateGenerator(int shardId) => new(HashCode.Combine(Seed, shardId));

    /// <summary>Whether a fault of <paramref name="kind"/> strikes now, drawn from <paramref name="random"/>; counts it if so.</summary>
    internal bool Strikes(FaultKinds kind, Random random)
    {
        if ((Kinds & kind) == 0 || random.NextDouble() >= Rate)
        {
            return false;
        }

        if (Interlocked.Increment(ref _total) > Limit)
        {
            Interlocked.Decrement(ref _total);
            return false;
        }

        Interlocked.Increment(ref _injected[IndexOf(kind)]);
        return true;
    }

    /// <summary>Any thread: whether an eventfd write fails now, and with which errno.</summary>
    internal bool EventFdWriteFails(out int errno)
    {
        lock (_eventFdGate)
        {
            if (!Strikes(FaultKinds.EventFdFailure, _eventFdRandom))
            {
                errno = 0;
                return false;
            }

            errno = _eventFdRandom.Next(2) == 0 ? Errno.EINTR : Errno.EAGAIN;
            return true;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Limit == long.MaxValue ? $"seed {Seed}, rate {Rate}, faults {Kinds}" : $"seed {Seed}, rate {Rate}, faults {Kinds}, at most {Limit}";

    private static int IndexOf(FaultKinds kind)
    {
        if (kind == FaultKinds.None || (kind & (kind - 1)) != 0 || (kind & ~FaultKinds.All) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "name exactly one kind of fault");
        }

        return BitOperations.TrailingZeroCount((uint)kind);
    }

    private static IEnumerable<byte> DefaultOpcodes() =>
    [
        IoUring.IORING_OP_NOP, IoUring.IORING_OP_READ, IoUring.IORING_OP_WRITE, IoUring.IORING_OP_READV, IoUring.IORING_OP_WRITEV,
        IoUring.IORING_OP_READ_FIXED, IoUring.IORING_OP_WRITE_FIXED, IoUring.IORING_OP_FSYNC, IoUring.IORING_OP_FALLOCATE,
        IoUring.IORING_OP_OPENAT, IoUring.IORING_OP_STATX, IoUring.IORING_OP_ACCEPT, IoUring.IORING_OP_CONNECT,
        IoUring.IORING_OP_RECV, IoUring.IORING_OP_SEND, IoUring.IORING_OP_SHUTDOWN, IoUring.IORING_OP_TIMEOUT,
        IoUring.IORING_OP_ASYNC_CANCEL,
    ];
}
