using Kiago.Kernels;
using Kiago.Nets.Diffusion;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using Kiago.Nets.Weights;

namespace Kiago.Tests.Design.SuperDiff;

/// <summary>Denoisers whose behaviour is known in closed form: ε = W·[x, t] + b as one Linear node.</summary>
internal static class LinearDenoisers
{
    public const string DiffusionCard = "{\"name\": \"test denoiser\", \"diffusion\": {\"timesteps\": 1000, \"schedule\": \"cosine\", " +
        "\"cosine_s\": 0.008, \"max_beta\": 0.999, \"prediction\": \"epsilon\"}}";

    /// <summary>ε = W·input + b with W [96, 97]; zero weights predict no noise at all.</summary>
    public static WeightModel Model(float[]? weight = null, float[]? bias = null, string card = DiffusionCard)
    {
        const int l = DenoiserLayout.Elements, n = DenoiserLayout.InputColumns;
        var tensors = new Dictionary<string, WeightTensor>
        {
            ["w"] = new("w", [l, n], weight ?? new float[l * n]),
            ["b"] = new("b", [l], bias ?? new float[l]),
        };
        var nodes = new List<GraphNode> { new("fc", GraphOps.Linear, ["input"], "eps", ["w", "b"], new Dictionary<string, int[]>()) };
        var graph = new ModelGraph("input", [n], "eps", nodes, tensors);
        return new WeightModel(ModelKind.Denoiser, [.. Featuriser.Layout(ModelKind.Denoiser).Accepted], "noise", "amount", graph, card, "tests");
    }

    public static DenoiserModel Load(WeightModel model, IBackend backend) =>
        new(model, DiffusionSettings.FromCard(model.CardJson, "test.kgw"), backend, "test.kgw");
}
