using System.Diagnostics;

namespace Miniss.Soak;

/// <summary>Seconds since the load started: the time axis of every sample, wrk run and plot.</summary>
internal sealed class RunClock
{
    private readonly long _start = Stopwatch.GetTimestamp();

    /// <summary>Seconds since this clock was made.</summary>
    public double Seconds => Stopwatch.GetElapsedTime(_start).TotalSeconds;
}
