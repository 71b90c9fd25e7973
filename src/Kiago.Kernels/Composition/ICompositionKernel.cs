using Kiago.Kernels;

namespace Kiago.Kernels.Composition;

/// <summary>
/// The fused composition kernel: one launch for all candidates. Buffers are [batch, 118] row-major float
/// (theta, topMask, x, gradients) or [batch] (integer loss, chosen N, flags).
/// </summary>
public interface ICompositionKernel : IDisposable
{
    CompositionSpec Spec { get; }

    /// <summary>
    /// x = c + (1 − Σc)·σ(σ(θ ⊙ m_top) ⊙ M). flags[b] = 1 when candidate b's optimisable part summed to zero
    /// (then x[b] = c and its loss and gradient are 0: the reference's NaN → 0). With <paramref name="integerLoss"/>,
    /// also L_int[b] = min over N of Σ_e dist(x_e − round(x_e·N)/N) and the chosen N (ties: smallest N);
    /// otherwise integerLoss and chosenN are left untouched.
    /// </summary>
    void Forward(int batch, DeviceBuffer<float> theta, DeviceBuffer<float> topMask, DeviceBuffer<float> x,
        DeviceBuffer<int> flags, bool integerLoss, DeviceBuffer<float> integerLossOut, DeviceBuffer<int> chosenN);

    /// <summary>
    /// gradTheta = ∂/∂θ of Σ_b (⟨gradX[b], x[b]⟩ + integerScale·L_int[b]) with the N chosen by the forward
    /// (overwrites gradTheta; flagged rows get 0). Forward must have run on the same θ with
    /// integerLoss = true when <paramref name="integerScale"/> ≠ 0.
    /// </summary>
    void Backward(int batch, DeviceBuffer<float> theta, DeviceBuffer<float> topMask, DeviceBuffer<float> gradX,
        DeviceBuffer<int> flags, float integerScale, DeviceBuffer<int> chosenN, DeviceBuffer<float> gradTheta);

    /// <summary>
    /// The stage-2 maximum-elements mask (reference §5.4): m_top[b, e] = 1 if x[b, e] &gt; the (k+1)-th largest
    /// value of x[b] (strict; ties at the threshold dropped; rows with ≤ k non-zeros keep all of them).
    /// </summary>
    void BuildTopMask(int batch, DeviceBuffer<float> x, int k, DeviceBuffer<float> topMask);
}
