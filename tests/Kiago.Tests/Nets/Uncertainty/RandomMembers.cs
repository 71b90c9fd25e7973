using Kiago.Chemistry;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using Kiago.Nets.Uncertainty;
using Kiago.Nets.Weights;

namespace Kiago.Tests.Nets.Uncertainty;

/// <summary>Random-weight MLP models of either kind and a small uncertainty file around them, for the API tests.</summary>
internal static class RandomMembers
{
    /// <summary>kind's input (image or 86-vector) → [Reshape] → Linear h, ReLU, Linear h, ReLU, Linear 1 (a member or a flagship stand-in).</summary>
    public static WeightModel Mlp(ModelKind kind, int seed, int hidden = 12, float outputScale = 1f, float outputBias = 0f,
        (string Name, string Unit)? output = null)
    {
        var rng = new Random(seed);
        var shape = Featuriser.Layout(kind).Shape;
        int inputs = shape.Aggregate(1, (a, d) => a * d);
        var tensors = new Dictionary<string, WeightTensor>();
        var nodes = new List<GraphNode>();
        string x = "input";
        if (shape.Length > 1)
        {
            nodes.Add(new GraphNode("flatten", GraphOps.Reshape, [x], "flat", [], new Dictionary<string, int[]> { ["shape"] = [inputs] }));
            x = "flat";
        }
        int[] widths = [hidden, hidden, 1];
        int fanIn = inputs;
        for (int l = 0; l < widths.Length; l++)
        {
            // fractions are small (≤ 1, mostly 0): a larger first-layer scale keeps the outputs and gradients non-trivial
            double scale = (l == 0 ? 6.0 : 1.5) / Math.Sqrt(l == 0 ? 4 : fanIn);
            var w = Enumerable.Range(0, widths[l] * fanIn).Select(_ => (float)(scale * (2 * rng.NextDouble() - 1))).ToArray();
            var b = Enumerable.Range(0, widths[l]).Select(_ => (float)(0.2 * (2 * rng.NextDouble() - 1))).ToArray();
            if (l == widths.Length - 1)
            {
                for (int i = 0; i < w.Length; i++) w[i] *= outputScale;
                b[0] = b[0] * outputScale + outputBias;
            }
            tensors[$"w{l}"] = new WeightTensor($"w{l}", [widths[l], fanIn], w);
            tensors[$"b{l}"] = new WeightTensor($"b{l}", [widths[l]], b);
            nodes.Add(new GraphNode($"fc{l}", GraphOps.Linear, [x], $"h{l}", [$"w{l}", $"b{l}"], new Dictionary<string, int[]>()));
            x = $"h{l}";
            if (l < widths.Length - 1)
            {
                nodes.Add(new GraphNode($"relu{l}", GraphOps.Relu, [x], $"r{l}", [], new Dictionary<string, int[]>()));
                x = $"r{l}";
            }
            fanIn = widths[l];
        }
        var graph = new ModelGraph("input", shape, x, nodes, tensors);
        var (name, unit) = output ?? ModelKinds.DefaultOutput(kind) ?? ("tc", "K");
        return new WeightModel(kind, [.. Featuriser.Layout(kind).Accepted], name, unit, graph, "{\"name\": \"random test MLP\"}", "tests");
    }

    public static readonly string[] TrainingFormulas = ["NaCl", "MgO", "Al2O3", "YBa2Cu3O7", "MgB2", "Fe2O3", "Nb3Sn", "LaCuO3", "KCl", "SiO2"];

    /// <summary>Sparse domain data over <paramref name="formulas"/>.</summary>
    public static DomainData Domain(IEnumerable<string> formulas, float referenceDistance = 0.25f)
    {
        var offsets = new List<int> { 0 };
        var elements = new List<byte>();
        var fractions = new List<float>();
        foreach (var f in formulas)
        {
            var c = Composition.Parse(f);
            var v = new double[118];
            c.WriteFractions(v);
            for (int i = 0; i < 118; i++)
                if (v[i] > 0) { elements.Add((byte)i); fractions.Add((float)v[i]); }
            offsets.Add(elements.Count);
        }
        return new DomainData([.. offsets], [.. elements], [.. fractions], referenceDistance);
    }

    /// <summary>
    /// K random members around a flagship of <paramref name="kind"/>, with a head that weights the flagship by
    /// <paramref name="flagshipWeight"/>; the members take <paramref name="memberKind"/>'s input (default: the flagship's)
    /// and predict the flagship's quantity.
    /// </summary>
    public static UncertaintyData Data(ModelKind kind, string baseSha256, int members = 3, float flagshipWeight = 0.5f, int seed = 100,
        float levelWeight = 0.3f, ModelKind? memberKind = null)
    {
        var output = ModelKinds.DefaultOutput(kind) ?? ("tc", "K");
        var list = Enumerable.Range(0, members).Select(k => Mlp(memberKind ?? kind, seed + k, outputScale: 1.3f, outputBias: 0.1f * k, output: output)).ToList();
        float rest = (1 - flagshipWeight) / members;
        var head = new UncertaintyHead([flagshipWeight, .. Enumerable.Repeat(rest, members)], 1.4f, 0.05f, 2.2f, 0.1f, levelWeight);
        return new UncertaintyData(baseSha256, list, head, Domain(TrainingFormulas),
            "{\"sigma_meaning\": \"test: calibrated 68 % half-width\"}");
    }
}
