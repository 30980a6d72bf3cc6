namespace Miniss.Scheduling;

/// <summary>
/// A shard's queue of ready work: a growable ring buffer of <see cref="WorkItem"/> values, used only by the shard's
/// own thread (work from other threads arrives through the shard's external queue).
/// </summary>
internal sealed class RunQueue
{
    private WorkItem[] _items = new WorkItem[256];
    private int _head;
    private int _count;

    public int Count => _count;

    public void Enqueue(in WorkItem item)
    {
        if (_count == _items.Length)
        {
            Grow();
        }

        _items[(_head + _count) & (_items.Length - 1)] = item;
        _count++;
    }

    public bool TryDequeue(out WorkItem item)
    {
        if (_count == 0)
        {
            item = default;
            return false;
        }

        ref WorkItem slot = ref _items[_head];
        item = slot;
        slot = default;
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        return true;
    }

    private void Grow()
    {
        var larger = new WorkItem[_items.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            larger[i] = _items[(_head + i) & (_items.Length - 1)];
        }

        _items = larger;
        _head = 0;
    }
}
