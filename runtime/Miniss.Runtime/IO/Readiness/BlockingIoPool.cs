using System;
using System.Collections.Generic;
using System.Threading;

namespace Miniss.IO.Readiness;

/// <summary>
/// The few threads on which a readiness backend runs the file operations its event interface cannot wait for
/// (<c>pread</c>, <c>fsync</c>, <c>openat</c>... on regular files are never "not ready", they block). Bounded: at most
/// <see cref="MaxThreads"/> threads, started when work waits and none is idle (by the pool itself, so submitting never
/// allocates once the first thread runs); each result goes back to the engine
/// that submitted it, which completes the operation on its own shard.
/// </summary>
internal sealed class BlockingIoPool : IDisposable
{
    private readonly object _gate = new();
    private readonly Queue<(ReadinessBackend Engine, int Index)> _work = new();
    private readonly List<Thread> _threads = [];
    private readonly string _name;
    private int _idle;
    private bool _stopping;

    /// <param name="maxThreads">The most threads the pool runs at once.</param>
    /// <param name="name">Prefix of the threads' names.</param>
    public BlockingIoPool(int maxThreads, string name = "miniss-blocking")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxThreads);
        MaxThreads = maxThreads;
        _name = name;
    }

    public int MaxThreads { get; }

    /// <summary>Queues operation <paramref name="index"/> of <paramref name="engine"/>. Any thread.</summary>
    public void Enqueue(ReadinessBackend engine, int index)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            _work.Enqueue((engine, index));
            if (_idle > 0)
            {
                Monitor.Pulse(_gate);
            }
            else if (_threads.Count == 0)
            {
                // Only the first thread is started by a submitter (a shard); the others by pool threads that find
                // work waiting, so a shard never allocates a thread in steady state.
                StartThread();
            }
        }
    }

    private void StartThread()
    {
        var thread = new Thread(Run) { Name = $"{_name}-{_threads.Count}", IsBackground = true };
        _threads.Add(thread);
        thread.UnsafeStart();
    }

    private void Run()
    {
        while (true)
        {
            (ReadinessBackend Engine, int Index) item;
            lock (_gate)
            {
                while (_work.Count == 0)
                {
                    if (_stopping)
                    {
                        return;
                    }

                    _idle++;
                    Monitor.Wait(_gate);
                    _idle--;
                }

                item = _work.Dequeue();
                if (_work.Count > 0 && _idle == 0 && _threads.Count < MaxThreads)
                {
                    StartThread();
                }
            }

            item.Engine.RunOnPool(item.Index);
        }
    }

    /// <summary>Lets the threads finish the queued work and exit; waits for them.</summary>
    public void Dispose()
    {
        Thread[] threads;
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            Monitor.PulseAll(_gate);
            threads = [.. _threads];
        }

        foreach (Thread thread in threads)
        {
            if (thread != Thread.CurrentThread)
            {
                thread.Join();
            }
        }
    }
}
