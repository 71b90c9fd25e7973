using Kiago.Kernels;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using Kiago.Nets.Weights;

namespace Kiago.Nets.Diffusion;

/// <summary>
/// A diffusion denoiser loaded from a .kgw of kind <see cref="ModelKind.Denoiser"/>: input [N, 97] (96 amounts of
/// H…Cm and the timestep), output [N, 96] (predicted noise ε), run forward-only on a backend. The card's "diffusion"
/// object gives the schedule it was trained with.
/// </summary>
public sealed class DenoiserModel : IDisposable
{
    readonly GraphExecutor executor;

    public DenoiserModel(WeightModel model, DiffusionSettings settings, IBackend backend, string file)
    {
        if (model.Kind != ModelKind.Denoiser) throw NotADenoiser(model, file);
        if (model.Graph.InputShape is not [DenoiserLayout.InputColumns])
            throw new WeightFileException(file, $"a denoiser takes per-sample input ({DenoiserLayout.InputColumns}) = {DenoiserLayout.Elements} amounts (H…Cm) + timestep, " +
                $"but the graph's input '{model.Graph.InputName}' is {GraphOps.Show(model.Graph.InputShape)}");
        executor = new GraphExecutor(model.Graph, backend);
        if (executor.OutputShape is not [DenoiserLayout.Elements])
        {
            executor.Dispose();
            throw new WeightFileException(file, $"a denoiser predicts one noise value per amount, per-sample shape ({DenoiserLayout.Elements}), " +
                $"but the graph's output '{model.Graph.OutputName}' is {GraphOps.Show(executor.OutputShape)}");
        }
        Model = model;
        Settings = settings;
        Backend = backend;
    }

    /// <summary>Reads and checks a denoiser .kgw (kind, shapes, the card's diffusion settings).</summary>
    public static DenoiserModel Load(string path, IBackend backend)
    {
        var model = WeightFile.Read(path);
        if (model.Kind != ModelKind.Denoiser) throw NotADenoiser(model, path);
        var settings = DiffusionSettings.FromCard(model.CardJson, path);
        try
        {
            return new DenoiserModel(model, settings, backend, path);
        }
        catch (GraphException e)
        {
            throw new WeightFileException(path, e.Message);
        }
    }

    static WeightFileException NotADenoiser(WeightModel model, string file) =>
        new(file, $"{ModelKinds.NameWithArticle(model.Kind)} model ({model.OutputName} in {model.OutputUnit}) is a predictor, not a denoiser " +
            $"(expected kind denoiser: input {DenoiserLayout.InputColumns} = {DenoiserLayout.Elements} amounts + timestep, output {DenoiserLayout.Elements})");

    public WeightModel Model { get; }
    public DiffusionSettings Settings { get; }
    public IBackend Backend { get; }

    /// <summary>ε[b, :] = net(input[b, :]) for b &lt; batch; input [batch, 97] and output [batch, 96] on the backend.</summary>
    public void Predict(int batch, DeviceBuffer<float> input, DeviceBuffer<float> output) => executor.Forward(batch, input, output);

    /// <summary>
    /// <see cref="Predict"/> for a batch at one timestep (every row's timestep column equal, as in sampling): the part
    /// of the network that sees only the timestep (its time embedding) runs once instead of once per sample.
    /// </summary>
    public void PredictAtOneTimestep(int batch, DeviceBuffer<float> input, DeviceBuffer<float> output) =>
        executor.Forward(batch, input, output, TimestepColumn);

    static readonly int[] TimestepColumn = [DenoiserLayout.Elements];

    public void Dispose() => executor.Dispose();
}
