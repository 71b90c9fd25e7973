using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Nets.Graph;
using Kiago.Nets.Onnx;
using Kiago.Tests.Support;

namespace Kiago.Tests.Nets;

/// <summary>Every case in ../shared/onnx-conformance through the importer and the executor.</summary>
public class ConformanceTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var group in new[] { "pytorch-converted", "pytorch-operator" })
            foreach (var dir in Directory.GetDirectories(SharedData.Path("onnx-conformance", group)).Order())
                data.Add($"{group}/{Path.GetFileName(dir)}");
        return data;
    }

    /// <summary>Cases that use what Kiago does not run, and the words their error must contain.</summary>
    static readonly Dictionary<string, string[]> Unsupported = new()
    {
        ["test_operator_add_broadcast"] = ["2 runtime inputs", "one float input", "integer indices and float fractions"],
        ["test_operator_addmm"] = ["3 runtime inputs"],
        ["test_operator_basic"] = ["2 runtime inputs"],
        ["test_operator_mm"] = ["2 runtime inputs"],
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Runs_or_refuses_clearly(string name)
    {
        string dir = SharedData.Path("onnx-conformance", name);
        string caseName = Path.GetFileName(name);
        if (Unsupported.TryGetValue(caseName, out var words))
        {
            var e = Assert.Throws<ModelImportException>(() => OnnxImporter.Import(Path.Combine(dir, "model.onnx")));
            Assert.Contains("model.onnx", e.Message);
            foreach (var w in words) Assert.Contains(w, e.Message);
            return;
        }
        var graph = OnnxImporter.Import(Path.Combine(dir, "model.onnx"));
        var input = OnnxReader.ReadTensorFile(Path.Combine(dir, "test_data_set_0", "input_0.pb"));
        var expected = OnnxReader.ReadTensorFile(Path.Combine(dir, "test_data_set_0", "output_0.pb"));
        int batch = input.Dims.Length == 0 ? 1 : (int)input.Dims[0];
        using var backend = new CpuBackend(threads: 2);
        using var exec = new GraphExecutor(graph, backend);
        Assert.Equal(expected.ElementCount, (long)batch * exec.OutputSize);
        using var x = backend.Allocate<float>(input.Floats!.Length);
        using var y = backend.Allocate<float>(expected.ElementCount);
        backend.Upload<float>(input.Floats, x);
        exec.Forward(batch, x, y);
        var actual = new float[expected.ElementCount];
        backend.Download(y, actual);
        for (int i = 0; i < actual.Length; i++)
        {
            double want = expected.Floats![i];
            Assert.True(Math.Abs(actual[i] - want) <= 1e-5 + 1e-4 * Math.Abs(want),
                $"{name}: output[{i}] = {actual[i]}, expected {want}");
        }
    }
}
