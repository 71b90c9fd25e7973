using Kiago.Kernels.Cpu;

namespace Kiago.Tests.Kernels;

/// <summary>
/// CpuBackend.ParallelRange splits [0, count) into chunks for any thread count: --threads 3 (or a Slurm allocation
/// of 6 CPUs) once gave chunks starting past the end, a negative length and an internal error in MaxPool2dBackward.
/// </summary>
public class ParallelRangeTests
{
    [Fact]
    public void Chunks_cover_the_range_exactly_once_for_every_thread_count()
    {
        for (int threads = 1; threads <= 9; threads++)
        {
            var backend = new CpuBackend(threads);
            foreach (int count in new[] { 1, 2, 3, 7, 64, 65, 100, 127, 1000 })
            {
                var hits = new int[count];
                backend.ParallelRange(count, (s, e) =>
                {
                    Assert.True(s < e, $"threads {threads}, count {count}: empty or negative chunk [{s}, {e})");
                    for (int i = s; i < e; i++) Interlocked.Increment(ref hits[i]);
                }, grain: 1);
                Assert.All(hits, h => Assert.Equal(1, h));
            }
        }
    }
}
