using Kiago.Cli;

namespace Kiago.Tests.Cli;

public sealed class CheckDeviceCommandTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    [Fact]
    public void Ilgpu_cpu_agrees_with_the_cpu_on_every_op_and_the_composition_kernel()
    {
        var (code, output, _) = cli.Run("check-device", "--device", "ilgpu-cpu");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("[vs simd, small]", output);
        Assert.Contains("composition kernel (Squared", output);
        Assert.Contains("composition kernel (Absolute", output);
        Assert.DoesNotContain("FAIL", output);
        Assert.EndsWith("check-device: PASS" + Environment.NewLine, output);
    }

    [Fact]
    public void Unknown_device_is_a_bad_input_error()
    {
        var (code, _, error) = cli.Run("check-device", "--device", "tpu");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--device 'tpu': unknown device", error);
    }

    [Fact]
    public void Bench_rejects_an_unknown_device()
    {
        var (code, _, error) = cli.Run("bench", "--device", "tpu", "--only", "gemm");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--device 'tpu': unknown device", error);
    }
}
