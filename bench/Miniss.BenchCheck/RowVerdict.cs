namespace Miniss.BenchCheck;

/// <summary>How one row of a run compares with the baseline.</summary>
internal enum RowOutcome
{
    /// <summary>At or above the baseline's floor.</summary>
    Within,

    /// <summary>Below the floor: a regression beyond the stated spread.</summary>
    Below,

    /// <summary>The baseline has the row but the run did not measure it (a step failed or a figure is missing).</summary>
    NotMeasured,

    /// <summary>The run measured a row the baseline does not have: the baseline must be rewritten.</summary>
    NoBaseline,
}

/// <summary>One row's comparison: its id, the baseline's ratio and floor (when it has the row), the measured ratio (when
/// measured), and the outcome.</summary>
internal sealed record RowVerdict(string Id, double? BaselineRatio, double? Floor, double? Tolerance, double? Measured, RowOutcome Outcome)
{
    /// <summary>Whether this row lets the check pass.</summary>
    public bool Passed => Outcome == RowOutcome.Within;
}
