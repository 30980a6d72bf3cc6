using System;
using System.Diagnostics;

namespace Miniss;

/// <summary>The runtime's monotonic clock: <see cref="Stopwatch"/> timestamps (nanoseconds on Linux).</summary>
internal static class Clock
{
    private static readonly double s_timestampsPerTick = Stopwatch.Frequency / (double)TimeSpan.TicksPerSecond;
    private static readonly double s_nanosecondsPerTimestamp = 1_000_000_000.0 / Stopwatch.Frequency;

    public static long Now => Stopwatch.GetTimestamp();

    /// <summary>A duration in timestamps, saturating at <see cref="Forever"/> instead of overflowing.</summary>
    public static long ToTimestamp(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return 0;
        }

        double timestamps = duration.Ticks * s_timestampsPerTick;
        return timestamps >= Forever ? Forever : (long)timestamps;
    }

    /// <summary>The deadline <paramref name="delay"/> from now, saturating at <see cref="Forever"/>.</summary>
    public static long Deadline(TimeSpan delay)
    {
        long now = Now;
        long span = ToTimestamp(delay);
        return span >= Forever - now ? Forever : now + span;
    }

    /// <summary>A timestamp no clock reaches: about 146 years of nanoseconds past the largest one a machine shows.</summary>
    public const long Forever = long.MaxValue / 2;

    /// <summary>A duration of <paramref name="nanoseconds"/> in timestamps, saturating at <see cref="Forever"/>.</summary>
    public static long FromNanoseconds(long nanoseconds)
    {
        if (nanoseconds <= 0)
        {
            return 0;
        }

        double timestamps = nanoseconds / s_nanosecondsPerTimestamp;
        return timestamps >= Forever ? Forever : (long)timestamps;
    }

    public static long ToNanoseconds(long timestamps) => (long)(timestamps * s_nanosecondsPerTimestamp);

    public static TimeSpan ToTimeSpan(long timestamps) => Stopwatch.GetElapsedTime(0, timestamps);
}
