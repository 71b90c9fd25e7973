// Layer normalisation: the opset-17 LayerNormalization node, and the form older exporters write it in
// (ReduceMean → Sub → Pow 2 → ReduceMean → Add ε → Sqrt → Div, then optionally Mul γ and Add β), fused into one
// LayerNorm node so its gradient is the op's own rather than a chain of broadcasting element-wise ops.
using Kiago.Nets.Graph;

namespace Kiago.Nets.Onnx;

public static partial class OnnxImporter
{
    sealed partial class Importer
    {
        readonly HashSet<OnnxNode> fused = [];
        Dictionary<string, List<OnnxNode>>? onnxReaders;

        /// <summary>The ONNX nodes reading <paramref name="value"/>.</summary>
        List<OnnxNode> Readers(string value)
        {
            if (onnxReaders is null)
            {
                onnxReaders = [];
                foreach (var n in model.Graph.Nodes)
                    foreach (var i in n.Inputs.Where(i => i.Length > 0).Distinct())
                        (onnxReaders.TryGetValue(i, out var list) ? list : onnxReaders[i] = []).Add(n);
            }
            return onnxReaders.TryGetValue(value, out var readers) ? readers : [];
        }

        /// <summary>LayerNormalization (opset 17): over the last axis only; Mean and InvStdDev outputs must be unused.</summary>
        void LayerNormalizationNode(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            int rank = shapes[x].Length + 1;
            long axis = Int(node, "axis", -1);
            if (axis != -1 && axis != rank - 1)
                throw ModelImportException.UnsupportedAttribute(file, node, "axis", axis.ToString(System.Globalization.CultureInfo.InvariantCulture), "-1 (the last axis)");
            for (int k = 1; k < node.Outputs.Length; k++)
                if (node.Outputs[k].Length > 0 && onnxConsumers.ContainsKey(node.Outputs[k]))
                    throw ModelImportException.Node(file, node, $"output {k} (the saved mean or inverse deviation) is used; only the normalised output is supported");
            int width = shapes[x][^1];
            float[] Vector(int k, string what, float fill)
            {
                var c = OptionalConst(node, k, what);
                if (c is null) return [.. Enumerable.Repeat(fill, width)];
                if (c.F is null) throw ModelImportException.Node(file, node, $"{what} must be float");
                if (c.Count == 1) return [.. Enumerable.Repeat(c.F[0], width)];
                if (c.F.Length != width) throw ModelImportException.Node(file, node, $"{what} has {c.F.Length} values; the last axis has {width}");
                return c.F;
            }
            EmitLayerNorm(node, x, Vector(1, "scale", 1f), Vector(2, "bias", 0f), Float(node, "epsilon", 1e-5f), node.Outputs[0]);
        }

        /// <summary>
        /// A ReduceMean that starts the decomposed layer norm: matched, emitted as one LayerNorm, and its other nodes
        /// marked as fused (skipped when visited). Any other ReduceMean is a mean over the last axis (or refused).
        /// </summary>
        void ReduceMeanNode(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            if (MatchDecomposedLayerNorm(node, x) is not { } match)
            {
                ReduceNode(node, x); // a plain mean over the last axis (any other axis is refused there)
                return;
            }
            foreach (var n in match.Nodes) fused.Add(n);
            EmitLayerNorm(node, x, match.Gamma, match.Beta, match.Epsilon, match.Output);
        }

        sealed record LayerNormMatch(List<OnnxNode> Nodes, float[] Gamma, float[] Beta, float Epsilon, string Output);

        LayerNormMatch? MatchDecomposedLayerNorm(OnnxNode mean, string x)
        {
            int width = shapes[x].Length > 0 ? shapes[x][^1] : 0;
            if (width == 0 || !ReducesLastAxis(mean, shapes[x].Length + 1)) return null;
            var nodes = new List<OnnxNode>();
            OnnxNode? Only(string value, string op)
            {
                var readers = Readers(value);
                return readers.Count == 1 && readers[0].OpType == op && !fused.Contains(readers[0]) ? readers[0] : null;
            }
            // x − mean: its readers are the Pow (square) and the Div (normalise)
            if (Only(mean.Outputs[0], "Sub") is not { } sub || sub.Inputs[0] != mean.Inputs[0] || sub.Inputs[1] != mean.Outputs[0]) return null;
            var centred = Readers(sub.Outputs[0]);
            var pow = centred.FirstOrDefault(n => n.OpType == "Pow" && n.Inputs[0] == sub.Outputs[0]);
            var div = centred.FirstOrDefault(n => n.OpType == "Div" && n.Inputs[0] == sub.Outputs[0]);
            if (centred.Count != 2 || pow is null || div is null || ScalarConstant(pow, 1) is not 2f) return null;
            if (Only(pow.Outputs[0], "ReduceMean") is not { } variance || !ReducesLastAxis(variance, shapes[x].Length + 1)) return null;
            if (Only(variance.Outputs[0], "Add") is not { } addEps) return null;
            float? eps = addEps.Inputs[0] == variance.Outputs[0] ? ScalarConstant(addEps, 1) : ScalarConstant(addEps, 0);
            if (eps is not { } epsilon || !(epsilon >= 0)) return null;
            if (Only(addEps.Outputs[0], "Sqrt") is not { } sqrt || div.Inputs[1] != sqrt.Outputs[0] || Readers(sqrt.Outputs[0]).Count != 1) return null;
            nodes.AddRange([sub, pow, variance, addEps, sqrt, div]);
            string output = div.Outputs[0];
            float[] gamma = [.. Enumerable.Repeat(1f, width)], beta = new float[width];
            // optional affine: Mul by a per-feature constant, then Add a per-feature constant
            if (Only(output, "Mul") is { } mul && LastAxisConstant(mul, output, width) is { } g)
            {
                gamma = g;
                nodes.Add(mul);
                output = mul.Outputs[0];
                if (Only(output, "Add") is { } add && LastAxisConstant(add, output, width) is { } b)
                {
                    beta = b;
                    nodes.Add(add);
                    output = add.Outputs[0];
                }
            }
            return new LayerNormMatch(nodes, gamma, beta, epsilon, output);
        }

        bool ReducesLastAxis(OnnxNode node, int rank)
        {
            long[] axes = node.Inputs.Length > 1 && node.Inputs[1].Length > 0 && LookAheadConstant(node.Inputs[1]) is { I: { } ints }
                ? ints : Ints(node, "axes", []);
            return axes.Length == 1 && (axes[0] == -1 || axes[0] == rank - 1) && Int(node, "keepdims", 1) == 1;
        }

        float? ScalarConstant(OnnxNode node, int k) =>
            k < node.Inputs.Length && LookAheadConstant(node.Inputs[k]) is { Count: 1 } c
                ? c.F is { } f ? f[0] : c.I is { } i ? i[0] : null
                : null;

        /// <summary>A constant known now, or one a Constant node later in the graph defines (exporters put them just before their reader).</summary>
        Const? LookAheadConstant(string value)
        {
            if (constants.TryGetValue(value, out var c)) return c;
            var definer = model.Graph.Nodes.FirstOrDefault(n => n.OpType == "Constant" && n.Outputs.Length == 1 && n.Outputs[0] == value);
            return definer is null ? null : ConstantValue(definer);
        }

        /// <summary>The other operand of a binary node reading <paramref name="value"/>, when it is one constant per feature of the last axis.</summary>
        float[]? LastAxisConstant(OnnxNode node, string value, int width)
        {
            int k = node.Inputs[0] == value ? 1 : node.Inputs[1] == value ? 0 : -1;
            if (k < 0 || LookAheadConstant(node.Inputs[k]) is not { F: not null } c) return null;
            if (c.Count == 1) return [.. Enumerable.Repeat(c.F[0], width)];
            return c.Count == width && c.Shape[^1] == width ? c.F : null;
        }

        void EmitLayerNorm(OnnxNode node, string x, float[] gamma, float[] beta, float epsilon, string output)
        {
            string name = UniqueName(node, "LayerNorm");
            int width = gamma.Length;
            string[] weights =
            [
                AddTensor(name + ".gamma", [width], gamma), AddTensor(name + ".beta", [width], beta), AddTensor(name + ".epsilon", [1], [epsilon]),
            ];
            EmitNamed(node, name, GraphOps.LayerNorm, [x], weights, [], output);
        }
    }
}
