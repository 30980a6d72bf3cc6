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

    // The hot part: what both shards read and write on every call, few fields and adjacent, so that a call's trip
    // there and back moves as few of its cache lines between the cores as possible. Everything that most calls do
    // not use (a cancellable token, a flowed context, tracing, the pending result of asynchronous work) is in
    // _extras, an object of its own created the first time a call needs it and kept with the call when it is pooled.
    private Delegate? _work;
    private Extras? _extras;
    private Exception? _error;
    private T _result = default!;
    private bool _isAsync;

    // Whether this use of the call carries anything in _extras (a token, a context or tracing).
    private bool _hasExtras;

    protected T Result => _result;

    protected Exception? Error => _error;

    /// <summary>The work to run: synchronous or asynchronous, exactly one of the two; the token that cancels it until
    /// it starts; the caller's execution context to run it in (null: the shard's own); whether to trace it as a
    /// <see cref="MinissTracing.SubmitActivityName"/> activity, child of <paramref name="parent"/>, sent from shard
    /// <paramref name="origin"/> (-1: from outside the runtime).</summary>
    public void Set(Func<T>? sync, Func<ValueTask<T>>? async, ExecutionContext? context = null,
        bool trace = false, ActivityContext parent = default, int origin = -1, CancellationToken token = default)
    {
        _work = (Delegate?)sync ?? async;
        _isAsync = sync is null;
        _hasExtras = context is not null || trace || token.CanBeCanceled;
        if (_hasExtras || _isAsync)
        {
            Extras extras = _extras ??= new Extras(this);
            extras.Token = token;
            extras.Context = context;
            extras.Trace = trace;
            extras.Parent = parent;
            extras.Origin = origin;
        }
    }

    public override void Execute(Shard shard)
    {
        if (!_hasExtras)
        {
            Run(shard);
            return;
        }

        Extras extras = _extras!;
        if (extras.Token.IsCancellationRequested)
        {
            Reject(shard, new OperationCanceledException("The work was cancelled before it started on its shard.", null, extras.Token));
            return;
        }

        extras.Token = default;
        if (extras.Context is null && !extras.Trace)
        {
            Run(shard);
            return;
        }

        // The caller's context (or a clean one, so an activity set here is not left on the shard thread).
        ExecutionContext context = extras.Context ?? MinissTracing.Clean ?? ExecutionContext.Capture()!;
        extras.Context = null;
        extras.Executing = shard;
        ExecutionContext.Run(context, s_runFlowed, this);
    }

    private void RunFlowed()
    {
        Extras extras = _extras!;
        Shard shard = extras.Executing!;
        extras.Executing = null;
        if (extras.Trace)
        {
            extras.Trace = false;
            Activity? activity = MinissTracing.Source.StartActivity(MinissTracing.SubmitActivityName, ActivityKind.Internal, extras.Parent);
            extras.Activity = activity;
            extras.Parent = default;
            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag("miniss.shard", shard.Id);
                activity.SetTag("miniss.origin_shard", extras.Origin);
            }
        }

        Run(shard);
    }

    private void Run(Shard shard)
    {
        try
        {
            if (!_isAsync)
            {
                var sync = (Func<T>)_work!;
                _work = null;
                _result = sync();
            }
            else
            {
                var work = (Func<ValueTask<T>>)_work!;
                _work = null;
#pragma warning disable CA2012 // The ValueTask is consumed exactly once: awaited through OnAsyncDone or read below.
                ValueTask<T> pending = work();
                if (!pending.IsCompleted)
                {
                    // Resumes on this shard: the shard's SynchronizationContext is current while the work runs.
                    Extras extras = _extras!;
                    extras.Pending = pending;
                    pending.GetAwaiter().UnsafeOnCompleted(extras.OnAsyncDone);
                    return;
                }

                _result = pending.GetAwaiter().GetResult();
#pragma warning restore CA2012
            }
        }
        catch (Exception e)
        {
            _error = e;
        }

        Finish(shard);
    }

    public override void Reject(Shard shard, Exception error)
    {
        _work = null;
        if (_extras is { } extras)
        {
            extras.Clear();
        }

        _hasExtras = false;
        _error = error;
        Complete(shard);
    }

    /// <summary>Ends the call's activity, if it has one, then delivers the outcome.</summary>
    private void Finish(Shard shard)
    {
        if (_hasExtras && _extras!.Activity is { } activity)
        {
            _extras.Activity = null;
            if (_error is { } error)
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
        _result = default!;
        _error = null;
    }

    private void OnAsyncDone()
    {
        Extras extras = _extras!;
        try
        {
            _result = extras.Pending.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            _error = e;
        }

        extras.Pending = default;
        Finish(Shard.Current!);
    }

    /// <summary>What few calls use: kept apart from the hot fields (see above) and reused with the call.</summary>
    private sealed class Extras(CrossShardCall<T> call)
    {
        public readonly Action OnAsyncDone = call.OnAsyncDone;
        public CancellationToken Token;
        public ExecutionContext? Context;
        public bool Trace;
        public ActivityContext Parent;
        public int Origin;
        public Activity? Activity;
        public Shard? Executing;
        public ValueTask<T> Pending;

        public void Clear()
        {
            Token = default;
            Context = null;
            Trace = false;
            Parent = default;
            Activity = null;
            Executing = null;
        }
    }
}
