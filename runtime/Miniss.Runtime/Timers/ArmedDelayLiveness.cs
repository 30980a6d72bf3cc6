namespace Miniss.Timers;

/// <summary>An <see cref="ArmedDelay"/> is live while its promise is still that arming and still armed.</summary>
internal readonly struct ArmedDelayLiveness : ITimerLiveness<ArmedDelay>
{
    /// <inheritdoc/>
    public bool IsLive(in ArmedDelay entry) => entry.Promise.ArmId == entry.ArmId && entry.Promise.IsArmed;
}
