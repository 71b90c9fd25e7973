using Kiago.Kernels;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>Buffer helpers for the ILGPU-specific tests (the references they check against are <see cref="ReferenceOps"/>).</summary>
static class IlgpuTestHelpers
{
    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = scale * (float)(2 * rng.NextDouble() - 1);
        return values;
    }

    public static DeviceBuffer<T> Upload<T>(this IBackend backend, T[] values) where T : unmanaged
    {
        var buffer = backend.Allocate<T>(values.Length);
        backend.Upload<T>(values, buffer);
        return buffer;
    }

    public static float[] Download(this IBackend backend, DeviceBuffer<float> buffer, long count)
    {
        var host = new float[count];
        backend.Download<float>(buffer, host);
        return host;
    }

    /// <summary>|expected − actual| ≤ tolerance · max(1, max|expected|) everywhere.</summary>
    public static void AssertClose(string what, double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1, expected.Length == 0 ? 0 : expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale,
                $"{what}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {tolerance * scale})");
    }
}
