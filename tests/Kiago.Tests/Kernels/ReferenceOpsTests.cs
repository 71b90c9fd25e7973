using Kiago.Kernels;

namespace Kiago.Tests.Kernels;

/// <summary>The references check themselves where they have an exact relation: the convolution's input gradient is its adjoint.</summary>
public sealed class ReferenceOpsTests
{
    [Theory]
    [InlineData(3, 7, 9, 5, 3, 2, 1, 1)]
    [InlineData(4, 6, 6, 4, 3, 1, 2, 2)] // grouped, dilated
    [InlineData(2, 5, 8, 6, 1, 2, 1, 2)]
    public void Conv2d_backward_input_is_the_adjoint_of_conv2d(int cin, int h, int w, int cout, int k, int stride, int dilation, int groups)
    {
        var s = new Conv2dSpec(cin, h, w, cout, k, k, stride, stride, 1, 1, 1, 1, dilation, dilation, groups);
        var rng = new Random(5);
        double[] R(int n) => [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1)];
        const int batch = 2;
        var x = R(batch * s.InSize);
        var weights = R(s.WeightCount);
        var dy = R(batch * s.OutSize);
        double left = ReferenceOps.Dot(ReferenceOps.Conv2d(s, batch, x, weights, null), dy);
        double right = ReferenceOps.Dot(x, ReferenceOps.Conv2dBackwardInput(s, batch, dy, weights));
        Assert.Equal(left, right, 9);
    }
}
