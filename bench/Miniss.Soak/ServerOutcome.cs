namespace Miniss.Soak;

/// <summary>One server over the whole soak.</summary>
/// <param name="Kind"><c>http</c> or <c>echo</c>.</param>
/// <param name="Backend">The I/O backend it ran on (from its descriptors).</param>
/// <param name="Shards">Shard threads alive when the load started.</param>
/// <param name="Start">Before any load.</param>
/// <param name="AfterWarmup">Quiet, right after the warm-up: the baseline of the checks.</param>
/// <param name="End">Quiet, after the load.</param>
/// <param name="PeakRssMiB">The highest RSS sampled after the warm-up, in MiB.</param>
/// <param name="PeakDescriptors">The most descriptors sampled after the warm-up.</param>
/// <param name="Churn">The churn client's counters against it.</param>
/// <param name="ExitCode">Its exit code after SIGTERM (or SIGKILL), if it was stopped by the soak.</param>
/// <param name="Killed">Whether SIGTERM did not stop it in time and it was killed.</param>
internal sealed record ServerOutcome(
    string Kind,
    string Backend,
    int Shards,
    ProcessSample? Start,
    ProcessSample? AfterWarmup,
    ProcessSample? End,
    double PeakRssMiB,
    int PeakDescriptors,
    ChurnCounters Churn,
    int? ExitCode,
    bool Killed);
