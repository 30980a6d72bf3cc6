using System.Collections.Generic;

namespace Miniss.BenchCheck;

/// <summary>
/// The rows BenchCheck guards: the key rows of docs/benchmarks.md that the performance goals are stated in, each
/// measured by the short run of <c>dotnet cake --target=BenchCheck</c> (BenchmarkDotNet's short job on the in-process
/// rows, the C floors of bench/native, and <c>miniss bench</c> on both cores and on one).
/// </summary>
internal static class RatioRows
{
    private const string Ring = "bdn:Miniss.Benchmarks.RingBenchmarks.";
    private const string Shards = "bdn:Miniss.Benchmarks.ShardBenchmarks.";
    private const string Bench = "miniss-bench:";
    private const string OneCore = "miniss-bench-one-core:";

    private static readonly Figure s_cNop = new("c:nop batch=1", FigureUnit.NanosecondsPerOperation);
    private static readonly Figure s_crossShard = new(Shards + "Cross_shard_round_trip", FigureUnit.NanosecondsPerOperation);

    /// <summary>Every guarded row, in the order they are printed.</summary>
    public static IReadOnlyList<RatioRow> All { get; } =
    [
        new("nop-await/c", "await shard.NopAsync() vs C liburing NOP round trip", Counterpart.C,
            new(Shards + "Shard_nop_await", FigureUnit.NanosecondsPerOperation), s_cNop),
        new("nop-round-trip/c", "ring NOP round trip, one per system call, vs C liburing", Counterpart.C,
            new(Ring + "Nop_round_trip", FigureUnit.NanosecondsPerOperation), s_cNop),
        new("cross-shard/dotnet", "cross-shard round trip (SubmitTo) vs .NET channel ping-pong", Counterpart.DotNet,
            s_crossShard, new(Shards + "DotNet_channel_round_trip", FigureUnit.NanosecondsPerOperation)),
        new("cross-shard/c", "cross-shard round trip (SubmitTo) vs C two-thread SPSC ping-pong", Counterpart.C,
            s_crossShard, new("c:spsc round_trip", FigureUnit.NanosecondsPerOperation)),
        new("bench-file-read/dotnet", "miniss bench file read 4 KiB, 32 in flight per core, vs .NET RandomAccess", Counterpart.DotNet,
            new(Bench + "file read 4 KiB:Miniss io_uring", FigureUnit.OperationsPerSecond), new(Bench + "file read 4 KiB:.NET", FigureUnit.OperationsPerSecond)),
        new("bench-echo/dotnet", "miniss bench TCP echo 64 B, 64 connections, vs .NET Socket", Counterpart.DotNet,
            new(Bench + "TCP echo 64 B:Miniss io_uring", FigureUnit.OperationsPerSecond), new(Bench + "TCP echo 64 B:.NET", FigureUnit.OperationsPerSecond)),
        new("bench-ping-pong/dotnet", "miniss bench cross-core ping-pong vs .NET channel pair", Counterpart.DotNet,
            new(Bench + "ping-pong:Miniss io_uring", FigureUnit.OperationsPerSecond), new(Bench + "ping-pong:.NET", FigureUnit.OperationsPerSecond)),
        new("file-read-qd32-one-core/c", "4 KiB buffered reads at queue depth 32 on CPU 0 vs C liburing on CPU 0", Counterpart.C,
            new(OneCore + "file read 4 KiB:Miniss io_uring", FigureUnit.OperationsPerSecond), new("c:read4k depth=32 mode=buffered", FigureUnit.NanosecondsPerOperation)),
    ];
}
