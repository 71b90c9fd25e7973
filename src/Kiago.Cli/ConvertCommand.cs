using System.CommandLine;
using Kiago.Kernels;
using Kiago.Nets;
using Kiago.Nets.Weights;

namespace Kiago.Cli;

/// <summary><c>kiago convert model.onnx -o name.kgw [--fp16] [--kind ..] [--card card.json] [--verify in.pb out.pb]</c>.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var onnx = new Argument<string>("model.onnx") { Description = "ONNX file exported from PyTorch (opset 13+ recommended)" };
        var output = new Option<string>("--output", "-o") { Description = "the .kgw file to write", Required = true };
        var fp16 = new Option<bool>("--fp16") { Description = "store weights as float16 (half the size; ~1e-3 relative rounding)" };
        var kind = new Option<string>("--input", "--kind") { Description = "what the model takes: image (= tc-resnet, the 4x7x32 periodic-table image) | elemnet (86 fractions) | fractions (118) | denoiser (96 amounts + timestep, for baseline superdiff) | tokens (element indices + fractions, two ONNX inputs [batch, T]) | auto (from the inputs)", DefaultValueFactory = _ => "auto" };
        var card = new Option<string?>("--card") { Description = "model card: a JSON object (training data files and SHA-256, split, metrics, element_frequencies)" };
        var verify = new Option<string[]>("--verify")
        {
            Description = "input.pb output.pb: ONNX TensorProto pair to check the converted model against (model input, not compositions)",
            Arity = new ArgumentArity(2, 2),
            AllowMultipleArgumentsPerToken = true,
        };
        var outputName = new Option<string?>("--output-name") { Description = "name of the prediction, e.g. tc, ef, band_gap (default: tc for a tc-resnet, ef for an elemnet; required for fractions)" };
        var outputUnit = new Option<string?>("--output-unit") { Description = "unit of the prediction, e.g. K, eV/atom, eV (default: K for a tc-resnet, eV/atom for an elemnet; required for fractions)" };
        var command = new Command("convert", "Import an ONNX predictor into a Kiago weight file (.kgw)")
        {
            onnx, output, fp16, kind, card, verify, outputName, outputUnit,
        };
        command.SetAction(r => Run(r.GetRequiredValue(onnx), r.GetRequiredValue(output), r.GetValue(fp16), r.GetValue(kind)!,
            r.GetValue(card), r.GetValue(verify), r.GetValue(outputName), r.GetValue(outputUnit),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    static int Run(string onnx, string output, bool fp16, string kindText, string? cardPath, string[]? verify,
        string? outputName, string? outputUnit, TextWriter stdout, TextWriter stderr)
    {
        ModelKind? kind = kindText == "auto" ? null
            : kindText == "image" ? ModelKind.TcResNet
            : ModelKinds.TryParse(kindText, out var k) ? k
            : throw new UserInputException($"--input: unknown input '{kindText}' (expected image, {ModelKinds.AllNames}, or auto)");
        if (!File.Exists(onnx)) throw new UserInputException($"{onnx}: file not found");
        OutputOptions.CheckFile(output, "--output");
        OutputOptions.RefuseOverwritingInput(onnx, output, "--output");
        if (cardPath is not null) OutputOptions.RefuseOverwritingInput(cardPath, output, "--output");
        string? card = null;
        if (cardPath is not null)
        {
            if (!File.Exists(cardPath)) throw new UserInputException($"--card {cardPath}: file not found");
            card = File.ReadAllText(cardPath);
        }
        var started = DateTime.UtcNow;
        var model = ModelConverter.Convert(onnx, new ConvertOptions(kind, fp16, card, outputName, outputUnit));
        double seconds = (DateTime.UtcNow - started).TotalSeconds;
        if (verify is { Length: 2 })
        {
            using var backend = new Kiago.Kernels.Cpu.CpuBackend();
            var result = ModelConverter.Verify(model, verify[0], verify[1], backend);
            stderr.WriteLine($"verify: {result.Values} values, max abs error {result.MaxAbsoluteError:G3}, " +
                $"max relative error {result.MaxRelativeError:G3} (tolerance {result.Tolerance:G2})");
            if (!result.Passed)
                throw new UserInputException($"--verify: {model.OutputName} differs from {verify[1]} by {result.MaxRelativeError:G3} relative (tolerance {result.Tolerance:G2}); .kgw not written");
        }
        WeightFile.Write(output, model);
        var g = model.Graph;
        stdout.WriteLine($"{output}: {ModelKinds.Name(model.Kind)}, output {model.OutputName} [{model.OutputUnit}], " +
            $"{g.Nodes.Count} ops, {g.ParameterCount:N0} parameters ({(fp16 ? "fp16" : "fp32")}), {new FileInfo(output).Length:N0} bytes; imported in {seconds:F2} s");
        return ExitCodes.Ok;
    }
}
