namespace Miniss.Soak;

/// <summary>What /proc shows of a server at one instant.</summary>
/// <param name="RssKiB">Resident set size (VmRSS of /proc/PID/status), in KiB.</param>
/// <param name="Descriptors">Open descriptors (entries of /proc/PID/fd).</param>
/// <param name="Threads">Threads of the process (Threads of /proc/PID/status).</param>
/// <param name="ShardThreads">Threads named <c>miniss-shard-N</c> (/proc/PID/task/*/comm): the shards alive.</param>
internal readonly record struct ProcessSample(long RssKiB, int Descriptors, int Threads, int ShardThreads)
{
    /// <summary>The RSS in MiB.</summary>
    public double RssMiB => RssKiB / 1024.0;
}
