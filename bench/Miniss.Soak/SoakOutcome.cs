using System.Collections.Generic;

namespace Miniss.Soak;

/// <summary>Everything the report says about one soak.</summary>
/// <param name="Options">How it was run.</param>
/// <param name="Machine">CPU, cores, kernel, .NET and date.</param>
/// <param name="Seconds">Wall time from the start of the load to the end of the checks.</param>
/// <param name="Samples">Every sample, in order.</param>
/// <param name="Phases">The warm-up, the quiet pauses and the load between them, in order.</param>
/// <param name="Http">The HTTP server.</param>
/// <param name="Echo">The echo server.</param>
/// <param name="Wrk">Every wrk run.</param>
/// <param name="Checks">The verdict, check by check.</param>
internal sealed record SoakOutcome(
    SoakOptions Options,
    string Machine,
    double Seconds,
    IReadOnlyList<SoakSample> Samples,
    IReadOnlyList<PhaseSpan> Phases,
    ServerOutcome Http,
    ServerOutcome Echo,
    WrkRun[] Wrk,
    IReadOnlyList<VerdictCheck> Checks)
{
    /// <summary>Whether every check passed.</summary>
    public bool Passed
    {
        get
        {
            foreach (VerdictCheck check in Checks)
            {
                if (!check.Passed)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
