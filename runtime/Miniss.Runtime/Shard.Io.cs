using System.Collections.Generic;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.IO;

namespace Miniss;

// I/O on the shard's ring: each operation in flight holds a pooled IoPromise from the shard's slot table.
public sealed partial class Shard
{
    private readonly List<IoPromise> _ioSlots = [];
    private readonly Stack<IoPromise> _freeIo = new();

    /// <summary>
    /// Sends a no-op through this shard's io_uring ring and completes with 0 when its completion comes back: the
    /// cost of one operation's round trip. Must be called on this shard; allocates nothing in steady state.
    /// </summary>
    /// <exception cref="System.InvalidOperationException">Called from another thread than this shard's.</exception>
    /// <exception cref="System.ObjectDisposedException">The runtime is stopping (the await throws).</exception>
    public unsafe ValueTask<int> NopAsync()
    {
        EnsureCurrent();
        if (_rejecting)
        {
            return ValueTask.FromException<int>(Stopped());
        }

        IoPromise promise = RentIo("NOP");
        io_uring_sqe* sqe = _ring!.NextSqe();
        sqe->opcode = IoUring.IORING_OP_NOP;
        sqe->user_data = promise.UserData;
        return new ValueTask<int>(promise, promise.Version);
    }

    private IoPromise RentIo(string operation)
    {
        if (!_freeIo.TryPop(out IoPromise? promise))
        {
            promise = new IoPromise(this, _ioSlots.Count);
            _ioSlots.Add(promise);
        }

        promise.Begin(operation);
        _inFlight++;
        return promise;
    }

    internal void ReleaseIo(IoPromise promise) => _freeIo.Push(promise);

    private void CompleteIo(in IoCompletion completion)
    {
        int slot = (int)(uint)completion.UserData;
        short version = (short)(ushort)(completion.UserData >> 32);
        if ((uint)slot >= (uint)_ioSlots.Count || _ioSlots[slot].Version != version)
        {
            return;
        }

        _inFlight--;
        _ioSlots[slot].Complete(completion.Result);
    }
}
