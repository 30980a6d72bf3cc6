using System.Collections.Generic;

namespace Miniss.Cli.Reports;

/// <summary>
/// The JSON document of <c>miniss bench --json</c>, described by docs/schemas/miniss-bench.schema.json. A change that
/// removes or renames a field, or changes its meaning, raises <see cref="SchemaVersion"/>; adding a field does not.
/// </summary>
internal sealed record BenchReport(string Schema, RunDescription<BenchRunOptions> Run, IReadOnlyList<BenchRow> Results)
{
    /// <summary>The value of <c>schema</c>: the document's kind and version.</summary>
    public const string SchemaVersion = "miniss-bench/1";
}

/// <summary>The options of one <c>miniss bench</c> run, as given or defaulted.</summary>
/// <param name="Backends">The backends asked for: <c>auto</c>, <c>io_uring</c>, <c>epoll</c>, or each of <c>all</c>.</param>
/// <param name="Shards">The shards asked for; <see langword="null"/> for every CPU.</param>
internal sealed record BenchRunOptions(
    IReadOnlyList<string> Backends,
    double DurationSeconds,
    int FileSizeMiB,
    int Connections,
    int? Shards,
    int ReadsInFlightPerCore);

/// <summary>The figures of one workload on one runtime.</summary>
/// <param name="Backend">The Miniss backend of the row; <see langword="null"/> for .NET's rows.</param>
/// <param name="LatencyMicroseconds">One operation's latency; <see langword="null"/> when no operation completed.</param>
/// <param name="AllocatedBytesPerOperation"><see langword="null"/> when no operation completed.</param>
/// <param name="RatioToDotNet">Operations per second over .NET's on the same workload; on Miniss's rows only.</param>
internal sealed record BenchRow(
    string Workload,
    string Runtime,
    string? Backend,
    long Operations,
    double Seconds,
    double OperationsPerSecond,
    LatencySummary? LatencyMicroseconds,
    double? AllocatedBytesPerOperation,
    double? RatioToDotNet);
