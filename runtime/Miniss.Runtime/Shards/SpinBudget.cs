using System;

namespace Miniss;

/// <summary>
/// The adaptive spin budget of <see cref="IdleStrategy.Adaptive"/>, in clock ticks (<c>Stopwatch</c> timestamps): how long an
/// idle shard polls before it sleeps. A spin that finds work doubles it (up to the ceiling); one that finds nothing
/// halves it, and below the floor it is zero (sleep at once). A sleep that ends within the ceiling is work a spin
/// would have caught: it brings the budget back to at least the floor, so a zero budget is not stuck at zero.
/// </summary>
internal struct SpinBudget
{
    private readonly long _ceiling;
    private readonly long _floor;
    private long _current;

    /// <param name="ceiling">The longest spin (<see cref="RuntimeOptions.SpinBeforeSleep"/>), in ticks.</param>
    public SpinBudget(long ceiling)
    {
        _ceiling = Math.Max(ceiling, 0);
        _floor = _ceiling / 16;
        _current = _ceiling;
    }

    /// <summary>The current budget, in ticks (0: sleep at once).</summary>
    public readonly long Current => _current;

    /// <summary>A spin found work before its budget ran out.</summary>
    public void FoundWork() => _current = Math.Min(_ceiling, Math.Max(_current * 2, _floor));

    /// <summary>A spin ran out of budget without finding work.</summary>
    public void FoundNothing()
    {
        _current /= 2;
        if (_current < _floor)
        {
            _current = 0;
        }
    }

    /// <summary>The core was taken by another thread for longer than the whole ceiling while this shard spun: spinning
    /// only delays that thread, so sleep at once until sleeps again end quickly.</summary>
    public void CoreIsShared() => _current = 0;

    /// <summary>A sleep in the kernel ended after <paramref name="slept"/> ticks: when within the ceiling, a spin would
    /// have caught the work without the kernel's wake-up.</summary>
    public void Slept(long slept)
    {
        if (slept < _ceiling && _current < _floor)
        {
            _current = _floor;
        }
    }
}
