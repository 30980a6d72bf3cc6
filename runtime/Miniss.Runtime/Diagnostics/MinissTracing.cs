using System.Diagnostics;
using System.Threading;

namespace Miniss.Diagnostics;

/// <summary>
/// The runtime's <see cref="ActivitySource"/>, named <c>Miniss</c>: an activity per cross-shard call
/// (<c>miniss.submit</c>) and per server connection (<c>miniss.connection</c>), created only while a listener samples
/// the source (an OpenTelemetry tracer provider with <c>AddSource("Miniss")</c>, or an <see cref="ActivityListener"/>).
/// Without one the cost is one <see cref="ActivitySource.HasListeners"/> check per call.
/// </summary>
public static class MinissTracing
{
    /// <summary>The name of the source and of the meter: <c>Miniss</c>.</summary>
    public const string SourceName = "Miniss";

    /// <summary>The activity of a cross-shard call, on the target shard while the work runs.</summary>
    public const string SubmitActivityName = "miniss.submit";

    /// <summary>The activity of a connection served by a <see cref="Net.ShardServer"/>, while its handler runs.</summary>
    public const string ConnectionActivityName = "miniss.connection";

    /// <summary>The source.</summary>
    public static ActivitySource Source { get; } = new(SourceName, typeof(MinissTracing).Assembly.GetName().Version?.ToString());

    /// <summary>An empty execution context (a fresh thread's), to run code that sets an <see cref="Activity"/> or a
    /// logging scope without leaving it behind on the shard thread. Captured by the first shard that starts.</summary>
    internal static ExecutionContext? Clean { get; private set; }

    /// <summary>Called on a new shard thread, whose execution context is still the default.</summary>
    internal static void CaptureClean() => Clean ??= ExecutionContext.Capture();

    /// <summary>Stops <paramref name="activity"/> without changing the calling thread's <see cref="Activity.Current"/>.</summary>
    internal static void Stop(Activity activity)
    {
        if (Clean is { } clean)
        {
            ExecutionContext.Run(clean, static state => ((Activity)state!).Stop(), activity);
        }
        else
        {
            Activity? current = Activity.Current;
            activity.Stop();
            Activity.Current = current;
        }
    }
}
