using System.Reflection;

namespace Kiago.Kernels.Ilgpu;

/// <summary>
/// Marks a static method as an ILGPU kernel: implicitly grouped (first parameter <c>ILGPU.Index1D</c>) by default,
/// or explicitly grouped (<see cref="ExplicitlyGrouped"/>: no index parameter; uses <c>Grid</c>/<c>Group</c>,
/// shared memory and barriers). <see cref="IlgpuBackend.LoadKernel{TDelegate}"/> and
/// <see cref="IlgpuBackend.LoadGroupedKernel{TDelegate}"/> refuse unmarked methods, so every kernel the backend can
/// launch is found by <see cref="IlgpuKernelRegistry"/> and compiled to PTX by the tests.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class IlgpuKernelAttribute : Attribute
{
    /// <summary>True for an explicitly grouped kernel (launched with a <c>KernelConfig</c>).</summary>
    public bool ExplicitlyGrouped { get; init; }

    /// <summary>Whether <paramref name="kernel"/> is marked as an explicitly grouped kernel.</summary>
    public static bool IsExplicitlyGrouped(MethodInfo kernel) =>
        kernel.GetCustomAttribute<IlgpuKernelAttribute>(false)?.ExplicitlyGrouped == true;
}

/// <summary>The single list of ILGPU kernels: every <see cref="IlgpuKernelAttribute"/> method in an assembly.</summary>
public static class IlgpuKernelRegistry
{
    const BindingFlags AnyStatic = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>All kernels in <paramref name="assembly"/> (default: Kiago.Kernels), ordered by name.</summary>
    public static IReadOnlyList<MethodInfo> Kernels(Assembly? assembly = null) =>
        (assembly ?? typeof(IlgpuKernelRegistry).Assembly).GetTypes()
            .SelectMany(t => t.GetMethods(AnyStatic))
            .Where(m => m.IsDefined(typeof(IlgpuKernelAttribute), false))
            .OrderBy(Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>"Type.Method", the name tests and error messages use.</summary>
    public static string Name(MethodInfo kernel) => $"{kernel.DeclaringType?.Name}.{kernel.Name}";
}
