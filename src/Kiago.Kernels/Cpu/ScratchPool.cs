using System.Collections.Concurrent;

namespace Kiago.Kernels.Cpu;

/// <summary>
/// Thread-safe pool of pinned float arrays keyed by power-of-two size classes: kernels rent scratch for one
/// tile and return it, so steady-state calls allocate nothing.
/// </summary>
internal sealed class ScratchPool
{
    readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> bins = new();
    int allocations;

    /// <summary>How many arrays the pool has ever created (tests check it stops growing).</summary>
    public int Allocations => Volatile.Read(ref allocations);

    public float[] Rent(long minimumLength)
    {
        int sizeClass = SizeClass(minimumLength);
        var bag = bins.GetOrAdd(sizeClass, _ => new ConcurrentBag<float[]>());
        if (bag.TryTake(out var array)) return array;
        Interlocked.Increment(ref allocations);
        return GC.AllocateUninitializedArray<float>(1 << sizeClass, pinned: true);
    }

    public void Return(float[] array) => bins[SizeClass(array.Length)].Add(array);

    static int SizeClass(long length)
    {
        if (length > 1 << 30) throw new ArgumentOutOfRangeException(nameof(length), length, "scratch request too large");
        int cls = 4;
        while (1L << cls < length) cls++;
        return cls;
    }
}
