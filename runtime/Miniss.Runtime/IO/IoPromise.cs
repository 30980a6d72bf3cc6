using System;
using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Miniss.Bindings.Linux;
using Miniss.IO.Catalog;
using Miniss.Scheduling;

namespace Miniss.IO;

/// <summary>
/// A pooled completion object for one single-shot operation in flight on a shard's ring (docs/architecture.md: the design's
/// IoHandle and IoFuture in one): registered in the shard's <see cref="CompletionTable"/> from the start of the
/// operation to its completion, whose slot and generation are the SQE's user data, so a completion finds its promise
/// with one array access, and a stale completion is recognised and ignored.
/// </summary>
/// <remarks>
/// <code>
///   rented ──Launch──► Submitted ──CQE res ≥ 0──► Completed
///                          ├──────CQE -ECANCELED──► Cancelled   (OperationCanceledException)
///                          └──────CQE -errno──────► Failed      (IOException, SocketException...)
///   every end state ──GetResult──► back to the pool (version + 1: stale handles and double awaits are reported)
/// </code>
/// What the kernel may still read or write (a pinned buffer, a path, a referenced file descriptor) is held here
/// and released when the kernel's completion arrives, never before: the await completes only then, even when the
/// operation was cancelled.
/// </remarks>
internal sealed class IoPromise : IValueTaskSource<int>, IValueTaskSource, ICompletionTarget
{
    private static readonly Action<object?> s_onTokenCancelled = OnTokenCancelled;
    private static readonly Action<object?> s_submitCancel = static request => ((CancelRequest)request!).Submit();

    private readonly Shard _owner;

    // Completed only by the shard's loop as it reaps (Shard.Deliver) or before the await exists (Abandon): the awaiter
    // resumes inside the reap, with no second trip through the run queue.
    private CompletionCore<int> _core = new(ContinuationPolicy.InlineOnShard);
    private string _operation = string.Empty;
    private IoDomain _domain;
    private string? _path;
    private int _expectedErrno;
    private MemoryHandle _pin;
    private SafeHandle? _handle;
    private unsafe byte* _native;
    private CancellationTokenRegistration _registration;
    private CancellationToken _token;

    public IoPromise(Shard owner) => _owner = owner;

    /// <summary>The token of the await (<see cref="ValueTask{TResult}"/>'s), not the user data.</summary>
    public short Version => _core.Version;

    /// <summary>The current operation's user data: its registration in the shard's completion table.</summary>
    public ulong UserData { get; private set; }

    /// <summary>Starts an operation registered in the shard's completion table as <paramref name="userData"/>.</summary>
    public void Begin(string operation, IoDomain domain, ulong userData)
    {
        _operation = operation;
        _domain = domain;
        _expectedErrno = 0;
        UserData = userData;
    }

    /// <summary>Reports <c>-errno</c> as success (0): a timeout's <c>ETIME</c> is its normal end.</summary>
    public void ExpectErrno(int errno) => _expectedErrno = errno;

    /// <summary>Keeps a pinned buffer until the completion.</summary>
    public void Hold(MemoryHandle pin) => _pin = pin;

    /// <summary>Keeps <paramref name="handle"/> referenced until the completion, so its descriptor number cannot be
    /// closed and reused under the operation; returns the descriptor.</summary>
    /// <exception cref="ObjectDisposedException">The handle is already closed.</exception>
    public int HoldHandle(SafeHandle handle)
    {
        // A disposed handle keeps its descriptor open while operations hold it; new operations must still be refused.
        ObjectDisposedException.ThrowIf(handle.IsClosed, handle);
        if (handle.IsInvalid)
        {
            throw new ArgumentException("The handle does not hold a valid file descriptor.", nameof(handle));
        }

        bool added = false;
        handle.DangerousAddRef(ref added);
        _handle = handle;
        _path ??= (handle as FileDescriptorHandle)?.Path;
        return (int)handle.DangerousGetHandle();
    }

    /// <summary>Copies <paramref name="path"/> to native NUL-terminated UTF-8 kept until the completion.</summary>
    public unsafe byte* HoldPath(string path)
    {
        int length = Encoding.UTF8.GetByteCount(path);
        _native = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(path, new Span<byte>(_native, length));
        _native[length] = 0;
        _path = path;
        return _native;
    }

    /// <summary>Watches <paramref name="token"/>: its cancellation asks the kernel to cancel the operation.</summary>
    public void WatchToken(CancellationToken token)
    {
        _token = token;
        _registration = token.UnsafeRegister(s_onTokenCancelled, new CancelRequest(this, UserData));
    }

    /// <summary>The kernel's completion (the table has freed the slot): releases what the kernel held, then completes
    /// the await with the result (non-negative) or the exception for <c>-errno</c>. The awaiter resumes inside this
    /// call and may already start this promise's next operation: nothing of the promise is touched after completing.</summary>
    public void OnCompletion(int result, uint flags)
    {
        ReleaseResources();
        CancellationToken token = _token;
        _token = default;
        if (result >= 0 || (_expectedErrno != 0 && result == -_expectedErrno))
        {
            _core.SetResult(_owner, Math.Max(result, 0));
            return;
        }

        Exception error = IoErrors.Create(-result, _operation, _domain, _path);
        if (result == -Errno.ECANCELED && token.IsCancellationRequested)
        {
            // Cancelled by the caller's token (not by a stop): the exception carries it, as .NET's own do.
            error = IoErrors.Canceled(error, token);
        }

        _core.SetException(_owner, error);
    }

    /// <summary>The operation never reached the kernel (it failed while being prepared): release and fail it.</summary>
    public void Abandon(Exception error)
    {
        _token = default;
        ReleaseResources();
        _core.SetException(_owner, error);
    }

    private unsafe void ReleaseResources()
    {
        _registration.Unregister();
        _registration = default;
        _pin.Dispose();
        _pin = default;
        if (_handle is not null)
        {
            _handle.DangerousRelease();
            _handle = null;
        }

        if (_native != null)
        {
            NativeMemory.Free(_native);
            _native = null;
        }
    }

    public int GetResult(short token)
    {
        try
        {
            return _core.GetResult(_owner, token);
        }
        finally
        {
            // Recycled only by the read that owns it (its token), once completed, on its own shard: a stale read, one
            // before completion, or one from another thread must not hand the object to a new operation.
            if (token == _core.Version && _core.IsCompleted && !_core.AwaitedFromWrongThread)
            {
                _core.Reset();
                _path = null;
                _owner.ReleaseIo(this);
            }
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(_owner, continuation, state, token);

    // The token may fire on any thread; the cancel request is submitted by the owning shard, and only if the
    // operation is still in flight (its registration, slot and generation, is still live in the completion table).
    private static void OnTokenCancelled(object? state) =>
        ((CancelRequest)state!).Promise._owner.Post(new WorkItem(s_submitCancel, state));

    private sealed record CancelRequest(IoPromise Promise, ulong UserData)
    {
        public void Submit()
        {
            if (Promise._owner.IsInFlight(UserData))
            {
                Promise._owner.SubmitCancel(UserData);
            }
        }
    }
}
