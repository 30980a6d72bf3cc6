using System;

namespace Miniss;

/// <summary>
/// The adaptive spin budget of <see cref="IdleStrategy.Adaptive"/>, in clock ticks (<c>Stopwatch</c> timestamps): how long an
/// idle shard polls before it sleeps. A spin that finds work doubles it (up to the ceiling); one that finds nothing
/// halves it, and below the floor it is zero (sleep at once). A sleep that ends within a few ceilings means work comes
/// about as often as a spin lasts (the kernel's wake-up alone takes tens of microseconds on some machines, so the
/// sleep's length overstates the gap): it restores the whole ceiling, so a zero budget is not stuck at zero and a
/// steady exchange such as a cross-shard ping-pong settles on spinning instead of alternating with sleeps. When
/// another thread took the core while the shard spun, the budget is zero for a number of idle periods that doubles
/// each time this repeats (8 up to 1024), so a shard on a busy shared core rarely spins at all.
/// </summary>
internal struct SpinBudget
{
    private readonly long _ceiling;
    private readonly long _floor;
    private long _current;

    // A sleep shorter than this many ceilings counts as short (see the class remarks).
    private const int ShortSleepCeilings = 4;

    // Idle periods left that sleep at once because the core was found shared, and the next such pause.
    private int _pausedFor;
    private int _nextPause;

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
    public void FoundWork()
    {
        _current = Math.Min(_ceiling, Math.Max(_current * 2, _floor));
        _nextPause = 0;
    }

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
    public void CoreIsShared()
    {
        _current = 0;
        _nextPause = Math.Clamp(_nextPause * 2, 8, 1024);
        _pausedFor = _nextPause;
    }

    /// <summary>A sleep in the kernel ended after <paramref name="slept"/> ticks: when within a few ceilings, spinning
    /// would likely have caught the work without the kernel's wake-up.</summary>
    public void Slept(long slept)
    {
        if (_pausedFor > 0)
        {
            _pausedFor--;
            return;
        }

        if (slept < _ceiling * ShortSleepCeilings)
        {
            _current = _ceiling;
        }
    }
}
