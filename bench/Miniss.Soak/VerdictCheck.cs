namespace Miniss.Soak;

/// <summary>One check of the verdict: what is required, whether the run met it, and the figures that say so.</summary>
internal sealed record VerdictCheck(string Requirement, bool Passed, string Detail);
