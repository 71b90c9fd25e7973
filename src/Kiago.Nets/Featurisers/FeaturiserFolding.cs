using Kiago.Nets.Graph;
using Kiago.Nets.Weights;

namespace Kiago.Nets.Featurisers;

/// <summary>
/// An MLP on the flattened periodic-table image (Reshape to 896 cells, then Linear) sees only the 118 cells that hold an
/// element; every other input is always 0. Gathering the first Linear's columns at those cells gives the same
/// function on the 118 fractions with a 7.6× smaller first layer and no scatter — how the Tc ensemble members run
/// (they were trained on the fractions and exported on the image). Anything else is returned unchanged.
/// </summary>
public static class FeaturiserFolding
{
    public static WeightModel Fold(WeightModel model)
    {
        var g = model.Graph;
        int cells = PeriodicTableLayout.ImageShape.Aggregate(1, (a, d) => a * d);
        if (model.Kind != ModelKind.TcResNet || g.Nodes.Count < 2) return model;
        var flatten = g.Nodes[0];
        if (flatten.Op != GraphOps.Reshape || flatten.Inputs is not [var input] || input != g.InputName
            || !flatten.Attr("shape").SequenceEqual([cells]) || flatten.Output == g.OutputName)
            return model;
        var readers = g.Nodes.Where(n => n.Inputs.Contains(flatten.Output)).ToList();
        if (readers is not [var linear] || linear.Op != GraphOps.Linear || linear.Inputs.Length != 1
            || g.Nodes.Any(n => n != flatten && n.Inputs.Contains(g.InputName)))
            return model;
        var w = g.Tensors[linear.Weights[0]];
        if (w.Shape is not [int outFeatures, var inFeatures] || inFeatures != cells) return model;
        const int elements = Featuriser.CompositionColumns;
        var gathered = new float[outFeatures * elements];
        for (int o = 0; o < outFeatures; o++)
            for (int z = 1; z <= elements; z++)
                gathered[o * elements + z - 1] = w.Data[o * cells + PeriodicTableLayout.FlatIndex(z)];
        var tensors = g.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        tensors[w.Name] = w with { Shape = [outFeatures, elements], Data = gathered };
        var nodes = g.Nodes.Skip(1).Select(n => n == linear ? n with { Inputs = [g.InputName] } : n).ToList();
        var graph = g with { InputShape = [elements], Nodes = nodes, Tensors = tensors };
        return model with { Kind = ModelKind.Fractions, InputElements = [.. Enumerable.Range(1, elements)], Graph = graph };
    }
}
