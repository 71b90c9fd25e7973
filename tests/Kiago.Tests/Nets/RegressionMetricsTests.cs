using Kiago.Nets.Evaluation;

namespace Kiago.Tests.Nets;

public sealed class RegressionMetricsTests
{
    [Fact]
    public void Mae_rmse_and_r2_match_a_hand_computation()
    {
        double[] target = [1, 2, 3, 4], predicted = [1.5, 2, 2, 5];
        var m = RegressionMetrics.Of(predicted, target);
        Assert.Equal(4, m.Count);
        Assert.Equal((0.5 + 0 + 1 + 1) / 4, m.Mae, 12);
        Assert.Equal(Math.Sqrt((0.25 + 0 + 1 + 1) / 4), m.Rmse, 12);
        Assert.Equal(1 - 2.25 / 5.0, m.R2, 12); // Σ(t − 2.5)² = 5
    }

    [Fact]
    public void Empty_and_constant_targets_give_nan_where_undefined_and_mismatched_lengths_throw()
    {
        Assert.True(double.IsNaN(RegressionMetrics.Of([], []).Mae));
        var constant = RegressionMetrics.Of([1, 3], [2, 2]);
        Assert.Equal(1, constant.Mae, 12);
        Assert.True(double.IsNaN(constant.R2));
        Assert.Throws<ArgumentException>(() => RegressionMetrics.Of([1], [1, 2]));
    }
}
