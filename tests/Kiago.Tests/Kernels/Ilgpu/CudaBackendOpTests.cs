using System.Reflection;
using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;
using Xunit.Sdk;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>
/// The shared op suite (<see cref="BackendOpTests"/>) on CUDA. xunit 2 cannot skip inherited facts at run time, so
/// the suite's test methods (and each theory's data rows) are enumerated here and run through one
/// <see cref="CudaTheoryAttribute"/>, which is reported as skipped with the reason when no CUDA device is present.
/// </summary>
[Collection(IlgpuCpuCollection.Name)]
public sealed class CudaBackendOpTests
{
    sealed class Suite : BackendOpTests
    {
        protected override IBackend CreateBackend() => IlgpuBackend.CreateCuda();
    }

    static IEnumerable<(string Name, MethodInfo Method, object?[] Arguments)> SuiteCases()
    {
        var methods = typeof(BackendOpTests).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.IsDefined(typeof(FactAttribute), true));
        foreach (var method in methods)
        {
            var rows = method.GetCustomAttributes<DataAttribute>(true).SelectMany(d => d.GetData(method)).ToList();
            if (!method.IsDefined(typeof(TheoryAttribute), true)) rows = [[]];
            for (int i = 0; i < rows.Count; i++)
                yield return ($"{method.Name}({string.Join(", ", rows[i])})", method, rows[i]);
        }
    }

    public static TheoryData<string> Cases => new(SuiteCases().Select(c => c.Name));

    [Fact]
    public void The_suite_is_enumerated()
    {
        var names = SuiteCases().Select(c => c.Name).ToList();
        Assert.True(names.Count > 30, $"only {names.Count} cases found");
        Assert.Contains(names, n => n.StartsWith("Conv2d_forward_and_input_gradient(", StringComparison.Ordinal));
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [CudaTheory]
    [MemberData(nameof(Cases))]
    public void Op_suite_on_cuda(string name)
    {
        var (_, method, arguments) = SuiteCases().Single(c => c.Name == name);
        using var suite = new Suite();
        try
        {
            method.Invoke(suite, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        }
    }
}
