using System;

namespace Miniss.Runtime.Tests;

/// <summary>
/// Measures what a steady loop allocates on the calling thread, in up to <see cref="Attempts"/> windows, and keeps the
/// least: a loop that allocates per operation or now and then does so in every window, while the .NET runtime's own
/// one-time work on this thread (tiered compilation moving a method of the loop to optimised code, which on a loaded
/// machine may happen inside the first window and allocates a few dozen bytes there) does not repeat.
/// </summary>
/// <remarks>A struct, so that an async method keeps it in its state machine without allocating:
/// <code>
///   var windows = new AllocationWindows();
///   while (windows.Next())
///   {
///       for (...) await operation;
///   }
///   return windows.Least;
/// </code>
/// Each window must be run in the same async method invocation as the measurement: a new invocation boxes its own
/// state machine at its first pending await, inside the window.</remarks>
internal struct AllocationWindows
{
    /// <summary>How many windows are measured at most.</summary>
    public const int Attempts = 3;

    private long _before;
    private bool _open;

    public AllocationWindows() => Least = long.MaxValue;

    /// <summary>The fewest bytes a window allocated (<see cref="long.MaxValue"/> before the first window closes).</summary>
    public long Least { get; private set; }

    /// <summary>Windows measured so far.</summary>
    public int Count { get; private set; }

    /// <summary>Closes the open window, if any; opens another and returns true while no window allocated nothing and
    /// fewer than <see cref="Attempts"/> were measured.</summary>
    public bool Next()
    {
        if (_open)
        {
            long allocated = GC.GetAllocatedBytesForCurrentThread() - _before;
            _open = false;
            Count++;
            Least = Math.Min(Least, allocated);
        }

        if (Least == 0 || Count == Attempts)
        {
            return false;
        }

        _open = true;
        _before = GC.GetAllocatedBytesForCurrentThread();
        return true;
    }
}
