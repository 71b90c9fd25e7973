using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;

namespace Kiago.Tests.Nets;

/// <summary>
/// PyTorch-exported models (training/export_fixtures.py; training/export_byo_fixtures.py for the models users bring:
/// MLPs on the 118 fractions with a `* std + mean` head, LayerNorm, SiLU, Sigmoid; a transformer over element tokens) through import → .kgw → GraphModel, against PyTorch's
/// forward and input gradient (float64 references). fp32 files: forward 1e-4, gradient 1e-3 relative to the largest
/// reference value. fp16 files: every weight rounds with relative error ≤ 2⁻¹¹ ≈ 4.9e-4, so outputs are checked to
/// 1e-2 relative (measured errors are reported in docs/MODELS.md).
/// </summary>
public class FixtureParityTests
{
    public static TheoryData<string, string, bool> Files()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var name in new[] { "tiny_resnet", "tiny_mlp", "mlp118", "mlp118_norm", "mlp118_gelu", "heads118", "tokens8" })
            foreach (var file in NetsFixtures.Get(name).Onnx)
                foreach (bool fp16 in new[] { false, true })
                    data.Add(name, file, fp16);
        return data;
    }

    internal static WeightModel Convert(string file, ModelKind kind, bool fp16)
    {
        var graph = OnnxImporter.Import(Path.Combine(NetsFixtures.Folder, file));
        var (outName, unit) = ModelKinds.DefaultOutput(kind) ?? ("tc", "K");
        var model = new WeightModel(kind, [.. Featuriser.Layout(kind).Accepted], outName, unit, graph, "{}", "test");
        if (fp16) model = model.WithStorage(TensorStorageType.Float16);
        return WeightFile.Deserialize(WeightFile.Serialize(model), file + ".kgw");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Forward_and_input_gradient_match_PyTorch(string name, string file, bool fp16)
    {
        var reference = NetsFixtures.Get(name);
        var kind = NetsFixtures.KindOf(name);
        using var backend = new CpuBackend(threads: 2);
        using var model = new GraphModel(Convert(file, kind, fp16), backend);
        int batch = reference.X.Length;
        using var x = backend.Allocate<float>(batch * 118L);
        using var y = backend.Allocate<float>(batch);
        using var dx = backend.Allocate<float>(batch * 118L);
        backend.Upload<float>(reference.X.SelectMany(r => r.Select(v => (float)v)).ToArray(), x);

        // forward-only path
        model.Forward(batch, x, y);
        var yForward = new float[batch];
        backend.Download(y, yForward);

        // forward + backward, accumulating 0.5·∂y/∂x onto a buffer that already holds 1
        backend.Fill(dx, 1f, batch * 118L);
        model.ForwardBackward(batch, x, y, dx, 0.5f);
        var yBoth = new float[batch];
        var grad = new float[batch * 118];
        backend.Download(y, yBoth);
        backend.Download(dx, grad);
        Assert.Equal(yForward, yBoth);

        double yScale = reference.Y.Max(Math.Abs);
        double gScale = reference.Dydx.SelectMany(r => r).Max(Math.Abs);
        Assert.True(yScale > 0 && gScale > 0, "reference is degenerate");
        double yTol = fp16 ? 1e-2 : 1e-4, gTol = fp16 ? 1e-2 : 1e-3;
        for (int b = 0; b < batch; b++)
        {
            Assert.True(Math.Abs(yForward[b] - reference.Y[b]) <= yTol * yScale, $"{file} fp16={fp16}: y[{b}] = {yForward[b]}, expected {reference.Y[b]}");
            for (int i = 0; i < 118; i++)
            {
                double want = 1 + 0.5 * reference.Dydx[b][i];
                double got = grad[b * 118 + i];
                Assert.True(Math.Abs(got - want) <= gTol * 0.5 * gScale, $"{file} fp16={fp16}: dy/dx[{b},{i}] = {(got - 1) * 2}, expected {reference.Dydx[b][i]}");
            }
        }
    }

    /// <summary>The converted fixture's outputs and input gradient on the <paramref name="host"/> compositions.</summary>
    static (float[] Y, float[] Grad) ForwardBackward(Kiago.Kernels.IBackend backend, string file, ModelKind kind, float[] host, int batch)
    {
        using var model = new GraphModel(Convert(file, kind, fp16: false), backend);
        return HostRuns.ForwardBackward(backend, host, batch, model.ForwardBackward);
    }

    [Theory]
    [InlineData("byo/tokens8_op17.onnx", ModelKind.Tokens)]
    [InlineData("byo/mlp118_gelu_op13.onnx", ModelKind.Fractions)]
    public void Outputs_and_gradients_are_the_same_bytes_for_any_thread_count(string file, ModelKind kind)
    {
        // 96 compositions of 2-12 elements: enough rows that every parallel split differs between 1, 2 and 3 threads
        var rng = new Random(5);
        const int batch = 96;
        var host = new float[batch * 118];
        for (int b = 0; b < batch; b++)
            foreach (int c in Enumerable.Range(0, 118).OrderBy(_ => rng.Next()).Take(rng.Next(2, 13)))
                host[b * 118 + c] = (float)(0.05 + rng.NextDouble());
        (float[] Y, float[] Grad) Run(int threads)
        {
            using var backend = new CpuBackend(threads);
            return ForwardBackward(backend, file, kind, host, batch);
        }
        var one = Run(1);
        foreach (int threads in new[] { 2, 3 })
        {
            var other = Run(threads);
            Assert.Equal(one.Y, other.Y);
            Assert.Equal(one.Grad, other.Grad);
        }
        Assert.Contains(one.Grad, g => g != 0);
    }

    [Fact]
    public void The_token_transformer_runs_on_the_ILGPU_backend_as_on_the_SIMD_CPU()
    {
        // every kernel of the graph through ILGPU (its CPU accelerator here, CUDA in check-device): the same model, input and gradient
        var reference = NetsFixtures.Get("tokens8");
        int batch = reference.X.Length;
        var host = reference.X.SelectMany(r => r.Select(v => (float)v)).ToArray();
        (float[] Y, float[] Grad) Run(Kiago.Kernels.IBackend backend) => ForwardBackward(backend, "byo/tokens8_op17.onnx", ModelKind.Tokens, host, batch);
        using var cpu = new CpuBackend(threads: 2);
        using var ilgpu = Kiago.Kernels.Ilgpu.IlgpuBackend.CreateCpu();
        // both layers' GELU run fused (four nodes each folded into one pass)
        using (var executor = new Kiago.Nets.Graph.GraphExecutor(Convert("byo/tokens8_op17.onnx", ModelKind.Tokens, fp16: false).Graph, cpu))
            Assert.Equal(8, executor.FusedAwayNodes);
        var (cy, cg) = Run(cpu);
        var (iy, ig) = Run(ilgpu);
        double yScale = cy.Max(v => Math.Abs(v)), gScale = cg.Max(v => Math.Abs(v));
        for (int b = 0; b < batch; b++) Assert.True(Math.Abs(cy[b] - iy[b]) <= 1e-5 * yScale, $"y[{b}]: cpu {cy[b]}, ilgpu {iy[b]}");
        for (int i = 0; i < cg.Length; i++) Assert.True(Math.Abs(cg[i] - ig[i]) <= 1e-4 * gScale, $"dy/dx[{i}]: cpu {cg[i]}, ilgpu {ig[i]}");
    }

    [Fact]
    public void ElemNet_drops_elements_outside_its_86_with_zero_gradient()
    {
        // export_fixtures.py puts one element outside ElemNet's set into every other composition
        var reference = NetsFixtures.Get("tiny_mlp");
        int withDropped = 0;
        for (int b = 0; b < reference.X.Length; b++)
        {
            var dropped = Featuriser.DroppedElements(ModelKind.ElemNet, reference.X[b].Select(v => (float)v).ToArray());
            foreach (int z in dropped) Assert.Equal(0.0, reference.Dydx[b][z - 1]);
            if (dropped.Count > 0) withDropped++;
        }
        Assert.True(withDropped > 0, "fixture has no composition with an element outside ElemNet's set");
    }

    [Theory]
    [InlineData("tiny_resnet_op13.onnx", ModelKind.TcResNet)]
    [InlineData("tiny_mlp_op13.onnx", ModelKind.ElemNet)]
    [InlineData("byo/mlp118_op13.onnx", ModelKind.Fractions)] // the model reads the caller's composition buffer directly
    [InlineData("byo/tokens8_op17.onnx", ModelKind.Tokens)]
    public void Repeated_calls_reuse_buffers_and_give_the_same_results(string file, ModelKind kind)
    {
        // From the third identical call on, the tape releases buffers after their last reader: the output must survive,
        // and so must the caller's input (a fractions model has no featuriser copy between them).
        var reference = NetsFixtures.Get(kind switch { ModelKind.TcResNet => "tiny_resnet", ModelKind.ElemNet => "tiny_mlp", ModelKind.Tokens => "tokens8", _ => "mlp118" });
        using var backend = new CpuBackend(threads: 1);
        using var model = new GraphModel(Convert(file, kind, fp16: false), backend);
        int batch = reference.X.Length;
        using var x = backend.Allocate<float>(batch * 118L);
        using var y = backend.Allocate<float>(batch);
        using var dx = backend.Allocate<float>(batch * 118L);
        backend.Upload<float>(reference.X.SelectMany(r => r.Select(v => (float)v)).ToArray(), x);
        float[]? firstY = null, firstGrad = null;
        for (int call = 0; call < 5; call++)
        {
            model.Forward(batch, x, y);
            var yf = new float[batch];
            backend.Download(y, yf);
            backend.Fill(dx, 0f, batch * 118L);
            model.ForwardBackward(batch, x, y, dx, 1f);
            var yb = new float[batch];
            var g = new float[batch * 118];
            backend.Download(y, yb);
            backend.Download(dx, g);
            Assert.Equal(yf, yb);
            firstY ??= yf;
            firstGrad ??= g;
            Assert.Equal(firstY, yf);
            Assert.Equal(firstGrad, g);
            var xNow = new float[batch * 118];
            backend.Download(x, xNow);
            Assert.Equal(reference.X.SelectMany(r => r.Select(v => (float)v)).ToArray(), xNow);
        }
    }
}
