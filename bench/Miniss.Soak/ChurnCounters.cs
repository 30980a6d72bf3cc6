using System.Collections.Generic;

namespace Miniss.Soak;

/// <summary>A churn client's counters at one instant.</summary>
/// <param name="Succeeded">Connections that did what their <see cref="ChurnOperation"/> says, the server answering as it should.</param>
/// <param name="Failed">Connections that did not: refused, no answer within the operation timeout, a wrong answer, a reset
/// the client did not ask for.</param>
/// <param name="Skipped">Connections not started because the client's in-flight limit was reached (the server is slow).</param>
/// <param name="ByOperation">Succeeded connections per <see cref="ChurnOperation"/>, by its value.</param>
/// <param name="Reasons">Why connections failed, with how many failed that way, most frequent first.</param>
internal sealed record ChurnCounters(long Succeeded, long Failed, long Skipped, long[] ByOperation, IReadOnlyList<KeyValuePair<string, long>> Reasons)
{
    /// <summary>Connections finished either way.</summary>
    public long Finished => Succeeded + Failed;
}
