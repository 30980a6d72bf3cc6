namespace Miniss.Soak;

/// <summary>A stretch of the soak in one phase (<c>warm-up</c>, <c>load</c> or <c>quiet</c>), in seconds on the <see cref="RunClock"/>.</summary>
internal sealed record PhaseSpan(string Phase, double From, double To);
