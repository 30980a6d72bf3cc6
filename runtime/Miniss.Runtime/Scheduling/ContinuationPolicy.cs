namespace Miniss.Scheduling;

/// <summary>How a <see cref="CompletionCore{T}"/> resumes its awaiter when the outcome is set: fixed per awaitable,
/// chosen by who completes it and who awaits it.</summary>
internal enum ContinuationPolicy : byte
{
    /// <summary>Completed and awaited on the owning shard; the continuation goes to the shard's run queue, never runs
    /// inside the code that completes it (which may be the loop reaping its ring). The default.</summary>
    QueueOnShard = 0,

    /// <summary>Completed and awaited on the owning shard; the continuation runs inside the completing call. Only for
    /// completions that already run as a task of their own: from the run queue (a connection operation's callback), or
    /// from the loop's reap, which brackets each single-shot operation's completion as a task (a ring operation's
    /// promise), so that resuming costs no second trip through the queue.</summary>
    InlineOnShard = 1,

    /// <summary>Completed on one thread and awaited on any other: registration and completion are synchronised, and
    /// the continuation is dispatched, never run inline, to the awaiter's captured context (a shard's context posts
    /// to that shard) or to the thread pool.</summary>
    AnyThread = 2,
}
