using Kiago.Kernels;
using Kiago.Kernels.Cpu;

namespace Kiago.Tests.Kernels;

/// <summary>The op suite on the SIMD CPU backend with two threads.</summary>
public sealed class CpuBackendOpTests : BackendOpTests
{
    protected override IBackend CreateBackend() => new CpuBackend(threads: 2);
}

/// <summary>The op suite on the scalar fallback (what runs without AVX2/FMA), single-threaded.</summary>
public sealed class CpuScalarBackendOpTests : BackendOpTests
{
    protected override IBackend CreateBackend() => new CpuBackend(threads: 1, allowSimd: false);
}
