namespace Miniss;

/// <summary>What an idle shard does before it sleeps in the kernel; see <see cref="RuntimeOptions.IdleStrategy"/>.</summary>
public enum IdleStrategy
{
    /// <summary>Polls for work only while polling has recently found some: the spin budget (at most
    /// <see cref="RuntimeOptions.SpinBeforeSleep"/>) doubles when a spin finds work and halves when it does not, and a
    /// shard that has spun 5 µs without finding work yields its core, then again every 5 µs, so a thread waiting for
    /// that core runs (work that arrives sooner, such as a reply to a cross-shard call, costs no system call). When a
    /// yield shows the core busy with another thread for longer than the whole budget, the shard sleeps instead (and
    /// spins again only after a pause that doubles while the core stays busy). A timer due within
    /// <see cref="RuntimeOptions.SpinBeforeSleep"/> is waited for by spinning, which costs less than the kernel's wake-up.</summary>
    Adaptive,

    /// <summary>Always polls for <see cref="RuntimeOptions.SpinBeforeSleep"/> before sleeping, never yielding the core:
    /// the lowest wake-up latency when every shard has a core of its own, and the worst choice when cores are shared.</summary>
    Spin,

    /// <summary>Sleeps in the kernel as soon as there is nothing to do: no polling, for machines whose cores are shared
    /// with other busy processes, at the cost of a kernel wake-up for every piece of work that finds the shard idle.</summary>
    Block,
}
