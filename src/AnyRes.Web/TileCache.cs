namespace AnyRes.Web;

/// <summary>Encoded tiles by key, least recently used evicted first once their bytes pass the budget.</summary>
public sealed class TileCache(long budgetBytes)
{
    readonly Dictionary<string, LinkedListNode<(string Key, byte[] Bytes)>> entries = new();
    readonly LinkedList<(string Key, byte[] Bytes)> order = new();   // most recent first
    readonly Lock gate = new();
    long bytes;

    public long Bytes { get { lock (gate) return bytes; } }
    public int Count { get { lock (gate) return entries.Count; } }

    public bool TryGet(string key, out byte[] value)
    {
        lock (gate)
        {
            if (entries.TryGetValue(key, out var node))
            {
                order.Remove(node);
                order.AddFirst(node);
                value = node.Value.Bytes;
                return true;
            }
        }
        value = [];
        return false;
    }

    public void Add(string key, byte[] value)
    {
        if (value.Length > budgetBytes) return;
        lock (gate)
        {
            if (entries.Remove(key, out var old))
            {
                order.Remove(old);
                bytes -= old.Value.Bytes.Length;
            }
            entries[key] = order.AddFirst((key, value));
            bytes += value.Length;
            while (bytes > budgetBytes && order.Last is { } last)
            {
                order.RemoveLast();
                entries.Remove(last.Value.Key);
                bytes -= last.Value.Bytes.Length;
            }
        }
    }
}
