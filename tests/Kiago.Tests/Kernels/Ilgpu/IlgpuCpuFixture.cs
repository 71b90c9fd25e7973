using Kiago.Kernels.Ilgpu;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>
/// One ILGPU CPU-accelerator backend for all ILGPU test classes: context creation and kernel compilation are paid
/// once, and the classes of this collection run one after another (2 shared cores).
/// </summary>
public sealed class IlgpuCpuFixture : IDisposable
{
    public IlgpuCpuFixture()
    {
        Backend = IlgpuBackend.CreateCpu();
        Current = Backend;
    }

    public IlgpuBackend Backend { get; }

    /// <summary>The fixture's backend, for test classes whose base constructor needs it before their own runs.</summary>
    internal static IlgpuBackend? Current { get; private set; }

    public void Dispose()
    {
        Current = null;
        Backend.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class IlgpuCpuCollection : ICollectionFixture<IlgpuCpuFixture>
{
    public const string Name = "ILGPU CPU accelerator";
}
