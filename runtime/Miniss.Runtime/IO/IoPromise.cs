using System;
using System.IO;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Miniss.Bindings.Linux;
using Miniss.Internal;
using Miniss.Scheduling;

namespace Miniss.IO;

/// <summary>
/// A pooled completion object for one operation in flight on a shard's ring: its slot in the shard's table and its
/// version together are the SQE's user data, so a completion finds its promise without a lookup structure, and a
/// stale completion (a slot since reused) is recognised and ignored.
/// </summary>
internal sealed class IoPromise : IValueTaskSource<int>, IValueTaskSource
{
    private readonly Shard _owner;
    private LocalPromiseCore<int> _core;
    private string _operation = string.Empty;

    public IoPromise(Shard owner, int slot)
    {
        _owner = owner;
        Slot = slot;
    }

    public int Slot { get; }

    public short Version => _core.Version;

    public ulong UserData => ((ulong)(ushort)_core.Version << 32) | (uint)Slot;

    public void Begin(string operation) => _operation = operation;

    /// <summary>Completes with the kernel's result: non-negative is success, <c>-errno</c> a failure.</summary>
    public void Complete(int result)
    {
        if (result >= 0)
        {
            _core.SetResult(_owner, result);
        }
        else if (result == -Errno.ECANCELED)
        {
            _core.SetException(_owner, new OperationCanceledException($"{_operation} was cancelled."));
        }
        else
        {
            _core.SetException(_owner, new IOException($"{_operation} failed: {ErrnoNames.Describe(-result)}", -result));
        }
    }

    public int GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            _owner.ReleaseIo(this);
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(_owner, continuation, state, token);
}
