using System;
using System.Diagnostics;

namespace Miniss;

/// <summary>The runtime's monotonic clock: <see cref="Stopwatch"/> timestamps (nanoseconds on Linux).</summary>
internal static class Clock
{
    private static readonly double s_timestampsPerTick = Stopwatch.Frequency / (double)TimeSpan.TicksPerSecond;
    private static readonly double s_nanosecondsPerTimestamp = 1_000_000_000.0 / Stopwatch.Frequency;

    public static long Now => Stopwatch.GetTimestamp();

    public static long ToTimestamp(TimeSpan duration) =>
        duration <= TimeSpan.Zero ? 0 : duration == TimeSpan.MaxValue ? long.MaxValue / 2 : (long)(duration.Ticks * s_timestampsPerTick);

    public static long ToNanoseconds(long timestamps) => (long)(timestamps * s_nanosecondsPerTimestamp);

    public static TimeSpan ToTimeSpan(long timestamps) => Stopwatch.GetElapsedTime(0, timestamps);
}
