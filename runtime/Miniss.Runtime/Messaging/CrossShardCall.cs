using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Miniss.Diagnostics;

namespace Miniss.Messaging;

/// <summary>
/// Work submitted to another shard: runs there (synchronous or asynchronous), and its result or exception goes back
/// to the caller through <see cref="Complete"/>, which the subclass implements for a shard caller or an outside thread.
/// </summary>
internal abstract class CrossShardCall<T> : ShardMessage
{
    private static readonly ContextCallback s_runFlowed = static state => ((CrossShardCall<T>)state!).RunFlowed();

    private readonly Action _onAsyncDone;
    private Func<T>? _sync;
    private Func<ValueTask<T>>? _async;
    private ValueTask<T> _pending;
    private CancellationToken _token;
    private ExecutionContext? _context;
    private bool _trace;
    private ActivityContext _parent;
    private int _origin;
    private Activity? _activity;
    private Shard? _executing;

    protected CrossShardCall() => _onAsyncDone = OnAsyncDone;

    protected T Result { get; private set; } = default!;

    protected Exception? Error { get; private set; }

    /// <summary>The work to run: synchronous or asynchronous, exactly one of the two; the token that cancels it until
    /// it starts; the caller's execution context to run it in (null: the shard's own); whether to trace it as a
    /// <see cref="MinissTracing.SubmitActivityName"/> activity, child of <paramref name="parent"/>, sent from shard
    /// <paramref name="origin"/> (-1: from outside the runtime).</summary>
    public void Set(Func<T>? sync, Func<ValueTask<T>>? async, ExecutionContext? context = null,
        bool trace = false, ActivityContext parent = default, int origin = -1, CancellationToken token = default)
    {
        _sync = sync;
        _async = async;
        _token = token;
        _context = context;
        _trace = trace;
        _parent = parent;
        _origin = origin;
    }

    public override void Execute(Shard shard)
    {
        if (_token.IsCancellationRequested)
        {
            Reject(shard, new OperationCanceledException("The work was cancelled before it started on its shard.", null, _token));
            return;
        }

        _token = default;
        if (_context is null && !_trace)
        {
            Run(shard);
            return;
        }

        // The caller's context (or a clean one, so an activity set here is not left on the shard thread).
        ExecutionContext context = _context ?? MinissTracing.Clean ?? ExecutionContext.Capture()!;
        _context = null;
        _executing = shard;
        ExecutionContext.Run(context, s_runFlowed, this);
    }

    private void RunFlowed()
    {
        Shard shard = _executing!;
        _executing = null;
        if (_trace)
        {
            _trace = false;
            _activity = MinissTracing.Source.StartActivity(MinissTracing.SubmitActivityName, ActivityKind.Internal, _parent);
            _parent = default;
            if (_activity is { IsAllDataRequested: true } activity)
            {
                activity.SetTag("miniss.shard", shard.Id);
                activity.SetTag("miniss.origin_shard", _origin);
            }
        }

        Run(shard);
    }

    private void Run(Shard shard)
    {
        try
        {
            if (_sync is { } sync)
            {
                _sync = null;
                Result = sync();
            }
            else
            {
                Func<ValueTask<T>> work = _async!;
                _async = null;
#pragma warning disable CA2012 // The ValueTask is consumed exactly once: awaited through _onAsyncDone or read below.
                ValueTask<T> pending = work();
                if (!pending.IsCompleted)
                {
                    // Resumes on this shard: the shard's SynchronizationContext is current while the work runs.
                    _pending = pending;
                    pending.GetAwaiter().UnsafeOnCompleted(_onAsyncDone);
                    return;
                }

                Result = pending.GetAwaiter().GetResult();
#pragma warning restore CA2012
            }
        }
        catch (Exception e)
        {
            Error = e;
        }

        Finish(shard);
    }

    public override void Reject(Shard shard, Exception error)
    {
        _sync = null;
        _async = null;
        _token = default;
        _context = null;
        _trace = false;
        _parent = default;
        Error = error;
        Complete(shard);
    }

    /// <summary>Ends the call's activity, if it has one, then delivers the outcome.</summary>
    private void Finish(Shard shard)
    {
        if (_activity is { } activity)
        {
            _activity = null;
            if (Error is { } error)
            {
                activity.SetStatus(ActivityStatusCode.Error, error.Message);
            }

            MinissTracing.Stop(activity);
        }

        Complete(shard);
    }

    /// <summary>Delivers <see cref="Result"/> or <see cref="Error"/> to the caller; runs on the executing shard.</summary>
    protected abstract void Complete(Shard executingShard);

    protected void ClearOutcome()
    {
        Result = default!;
        Error = null;
    }

    private void OnAsyncDone()
    {
        try
        {
            Result = _pending.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Error = e;
        }

        _pending = default;
        Finish(Shard.Current!);
    }
}
