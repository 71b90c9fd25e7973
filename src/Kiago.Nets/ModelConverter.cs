using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiago.Kernels;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;

namespace Kiago.Nets;

/// <summary>Options of an ONNX → .kgw conversion. Null kind = detect from the input shape.</summary>
public sealed record ConvertOptions(
    ModelKind? Kind = null,
    bool Float16 = false,
    string? CardJson = null,
    string? OutputName = null,
    string? OutputUnit = null);

/// <summary>Result of checking a converted model against an ONNX test pair (input.pb → output.pb).</summary>
public sealed record VerifyResult(long Values, double MaxAbsoluteError, double MaxRelativeError, double Tolerance, bool Passed);

/// <summary>ONNX → .kgw: import, pick the kind, attach the model card (with the source file's SHA-256), optionally fp16.</summary>
public static class ModelConverter
{
    public static WeightModel Convert(string onnxPath, ConvertOptions options)
    {
        var onnx = OnnxReader.ReadModel(onnxPath);
        var graph = OnnxImporter.Import(onnx);
        var kind = options.Kind ?? DetectKind(graph, onnxPath);
        if (!Featuriser.InputShapeFits(kind, graph.InputShape))
            throw ModelImportException.Graph(onnxPath, $"{ModelKinds.NameWithArticle(kind)} model takes per-sample input {Featuriser.ExpectedShape(kind)}, " +
                $"but input '{graph.InputName}' is {GraphOps.Show(graph.InputShape)}");
        var outShape = graph.InferShapes()[graph.OutputName];
        if (kind == ModelKind.Denoiser)
        {
            if (outShape is not [DenoiserLayout.Elements])
                throw ModelImportException.Graph(onnxPath, $"output '{graph.OutputName}' has per-sample shape {GraphOps.Show(outShape)}; " +
                    $"a denoiser predicts the noise of each of the {DenoiserLayout.Elements} amounts, per-sample shape ({DenoiserLayout.Elements})");
        }
        else if (GraphOps.Size(outShape) != 1)
            throw ModelImportException.Graph(onnxPath, $"output '{graph.OutputName}' has per-sample shape {GraphOps.Show(outShape)}; a composition model gives one value per sample");
        var defaults = ModelKinds.DefaultOutput(kind);
        string outputName = options.OutputName ?? defaults?.Name ?? throw ModelImportException.Graph(onnxPath,
            $"{ModelKinds.NameWithArticle(kind)} model has no default output quantity: pass --output-name and --output-unit (e.g. tc and K, ef and eV/atom, band_gap and eV)");
        string outputUnit = options.OutputUnit ?? defaults?.Unit ?? throw ModelImportException.Graph(onnxPath,
            $"pass --output-unit with --output-name {outputName} (e.g. K, eV/atom, eV)");
        var card = BuildCard(options.CardJson, onnxPath, onnx);
        var model = new WeightModel(kind, [.. Featuriser.Layout(kind).Accepted], outputName,
            outputUnit, graph, card, $"kiago {typeof(ModelConverter).Assembly.GetName().Version}");
        return options.Float16 ? model.WithStorage(TensorStorageType.Float16) : model;
    }

    /// <summary>The input signature from the per-sample input shape: tc-resnet for (4, 7, 32), elemnet for (86), fractions for (118), denoiser for (97).</summary>
    public static ModelKind DetectKind(ModelGraph graph, string file)
    {
        if (graph.InputName == OnnxImporter.TokensInputName && Featuriser.InputShapeFits(ModelKind.Tokens, graph.InputShape)) return ModelKind.Tokens;
        if (graph.InputShape.SequenceEqual(PeriodicTableLayout.ImageShape)) return ModelKind.TcResNet;
        if (graph.InputShape is [ElemNetLayout.InputCount]) return ModelKind.ElemNet;
        if (graph.InputShape is [Featuriser.CompositionColumns]) return ModelKind.Fractions;
        if (graph.InputShape is [DenoiserLayout.InputColumns]) return ModelKind.Denoiser;
        throw ModelImportException.Graph(file, $"cannot tell the model's input from its per-sample shape {GraphOps.Show(graph.InputShape)}: " +
            $"Kiago feeds {ModelKinds.AllNames}; pass --input image|elemnet|fractions|denoiser|tokens if the model takes one of these in another shape, or reshape it at export");
    }

    /// <summary>The user's card (a JSON object) plus a "conversion" entry naming the ONNX source and its SHA-256.</summary>
    static string BuildCard(string? cardJson, string onnxPath, OnnxModel onnx)
    {
        JsonObject card;
        if (cardJson is null) card = [];
        else
        {
            WeightFile.ValidateCard(cardJson, "model card");
            card = (JsonObject)JsonNode.Parse(cardJson)!;
        }
        card["conversion"] = new JsonObject
        {
            ["source"] = Path.GetFileName(onnxPath),
            ["source_sha256"] = System.Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(onnxPath))),
            ["producer"] = $"{onnx.ProducerName} {onnx.ProducerVersion}".Trim(),
            ["opset"] = onnx.Opset,
            ["converted_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        };
        return card.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// Runs the model's graph (without featuriser) on <paramref name="inputPb"/> and compares with
    /// <paramref name="outputPb"/> (ONNX TensorProto files). Tolerance: 1e-4 relative to the largest expected value
    /// for fp32 files, 1e-2 for fp16.
    /// </summary>
    public static VerifyResult Verify(WeightModel model, string inputPb, string outputPb, IBackend backend)
    {
        if (model.Kind == ModelKind.Tokens)
            throw new OnnxFormatException(inputPb, 0, "--verify compares one-input models; an element-token model has two inputs (indices and fractions): " +
                "check it with `kiago predict` against the model's own predictions instead");
        var input = OnnxReader.ReadTensorFile(inputPb);
        var expected = OnnxReader.ReadTensorFile(outputPb);
        if (input.Floats is null || expected.Floats is null)
            throw new OnnxFormatException(input.Floats is null ? inputPb : outputPb, 0, "tensor is not floating point");
        using var exec = new GraphExecutor(model.Graph, backend);
        if (input.Dims.Length == 0 || input.Floats.Length % exec.InputSize != 0 || !input.Dims.Skip(1).Select(d => (int)d).SequenceEqual(exec.InputShape))
            throw new OnnxFormatException(inputPb, 0, $"input shape [{string.Join(",", input.Dims)}] does not match the model's [batch,{string.Join(",", exec.InputShape)}]");
        int batch = (int)input.Dims[0];
        if (expected.Floats.Length != (long)batch * exec.OutputSize)
            throw new OnnxFormatException(outputPb, 0, $"has {expected.Floats.Length} values, the model gives {batch} × {exec.OutputSize}");
        using var x = backend.Allocate<float>(input.Floats.Length);
        using var y = backend.Allocate<float>(expected.Floats.Length);
        backend.Upload<float>(input.Floats, x);
        exec.Forward(batch, x, y);
        var actual = new float[expected.Floats.Length];
        backend.Download(y, actual);
        double scale = Math.Max(expected.Floats.Max(v => Math.Abs((double)v)), 1e-30);
        double maxAbs = 0;
        for (int i = 0; i < actual.Length; i++) maxAbs = Math.Max(maxAbs, Math.Abs(actual[i] - (double)expected.Floats[i]));
        bool fp16 = model.Graph.Tensors.Values.Any(t => t.StorageType == TensorStorageType.Float16);
        double tolerance = fp16 ? 1e-2 : 1e-4;
        return new VerifyResult(actual.Length, maxAbs, maxAbs / scale, tolerance, maxAbs / scale <= tolerance);
    }
}
