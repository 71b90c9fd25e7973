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

    /// <summary>
    /// For a generic kernel: the type whose static <c>KernelVariants</c> (an <c>IEnumerable&lt;Type[]&gt;</c>) lists the
    /// type arguments of every variant the backend may launch; the registry lists each instantiation.
    /// </summary>
    public Type? Variants { get; init; }

    /// <summary>Whether <paramref name="kernel"/> is marked as an explicitly grouped kernel.</summary>
    public static bool IsExplicitlyGrouped(MethodInfo kernel) =>
        kernel.GetCustomAttribute<IlgpuKernelAttribute>(false)?.ExplicitlyGrouped == true;
}

/// <summary>The single list of ILGPU kernels: every <see cref="IlgpuKernelAttribute"/> method in an assembly.</summary>
public static class IlgpuKernelRegistry
{
    const BindingFlags AnyStatic = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>All kernels in <paramref name="assembly"/> (default: Kiago.Kernels), generic ones once per variant, ordered by name.</summary>
    public static IReadOnlyList<MethodInfo> Kernels(Assembly? assembly = null) =>
        (assembly ?? typeof(IlgpuKernelRegistry).Assembly).GetTypes()
            .SelectMany(t => t.GetMethods(AnyStatic))
            .Where(m => m.IsDefined(typeof(IlgpuKernelAttribute), false))
            .SelectMany(Instantiations)
            .OrderBy(Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>"Type.Method", or "Type.Method&lt;A,B&gt;" for a generic kernel's variant: the name tests and error messages use.</summary>
    public static string Name(MethodInfo kernel) =>
        $"{kernel.DeclaringType?.Name}.{kernel.Name}" + (kernel.IsGenericMethod ? $"<{string.Join(",", kernel.GetGenericArguments().Select(a => a.Name))}>" : "");

    static IEnumerable<MethodInfo> Instantiations(MethodInfo kernel)
    {
        if (!kernel.IsGenericMethodDefinition) return [kernel];
        var variants = kernel.GetCustomAttribute<IlgpuKernelAttribute>(false)!.Variants?
            .GetProperty("KernelVariants", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null) as IEnumerable<Type[]>
            ?? throw new InvalidOperationException(
                $"{Name(kernel)} is a generic kernel: its [IlgpuKernel] needs Variants = a type with a static KernelVariants (IEnumerable<Type[]>) listing its type arguments");
        return variants.Select(kernel.MakeGenericMethod);
    }
}
