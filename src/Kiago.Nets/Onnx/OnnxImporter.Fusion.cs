// Fusion rewrites: BatchNormalization folded into the preceding Conv; a constant Add folded into the bias of the bias-free MatMul/Gemm before it.
using Kiago.Nets.Graph;

namespace Kiago.Nets.Onnx;

public static partial class OnnxImporter
{
    sealed partial class Importer
    {
        void BatchNorm(OnnxNode node)
        {
            if (Int(node, "training_mode", 0) != 0)
                throw ModelImportException.UnsupportedAttribute(file, node, "training_mode", "1", "inference only: export the model in eval mode");
            for (int k = 1; k < node.Outputs.Length; k++)
                if (node.Outputs[k].Length > 0 && onnxConsumers.ContainsKey(node.Outputs[k]))
                    throw ModelImportException.Node(file, node, $"output {k} (running statistics) is used; only inference is supported");
            string x = Dynamic(node, 0);
            float[] Vec(int k, string what) => ConstInput(node, k, what).F ?? throw ModelImportException.Node(file, node, $"{what} must be float");
            float[] gamma = Vec(1, "scale"), beta = Vec(2, "bias"), mean = Vec(3, "mean"), variance = Vec(4, "var");
            float epsilon = Float(node, "epsilon", 1e-5f);
            int channels = shapes[x].Length > 0 ? shapes[x][0] : 0;
            if (new[] { gamma, beta, mean, variance }.Any(v => v.Length != channels))
                throw ModelImportException.Node(file, node, $"parameters do not match the {channels} channels of per-sample shape {GraphOps.Show(shapes[x])}");
            // y = scale·x + shift per channel, computed in double
            var scale = new double[channels];
            var shift = new double[channels];
            for (int c = 0; c < channels; c++)
            {
                scale[c] = gamma[c] / Math.Sqrt((double)variance[c] + epsilon);
                shift[c] = beta[c] - mean[c] * scale[c];
            }
            // Fold into the producing Conv when nothing else reads the Conv's output.
            if (producer.TryGetValue(x, out int p) && nodes[p].Op == GraphOps.Conv && onnxConsumers.GetValueOrDefault(x) == 1
                && !alias.Where(kv => kv.Value == x).Any(kv => kv.Key != x))
            {
                var conv = nodes[p];
                var w = tensors[conv.Weights[0]];
                int perOut = w.ElementCount / w.Shape[0];
                var folded = new float[w.Data.Length];
                for (int o = 0; o < w.Shape[0]; o++)
                    for (int i = 0; i < perOut; i++)
                        folded[o * perOut + i] = (float)(w.Data[o * perOut + i] * scale[o]);
                var oldBias = conv.Weights.Length > 1 ? tensors[conv.Weights[1]].Data : new float[channels];
                var bias = new float[channels];
                for (int o = 0; o < channels; o++) bias[o] = (float)(oldBias[o] * scale[o] + shift[o]);
                AddTensor(conv.Weights[0], w.Shape, folded);
                string biasName = AddTensor(conv.Name + ".bias", [channels], bias);
                var output = node.Outputs[0];
                nodes[p] = conv with { Weights = [conv.Weights[0], biasName], Output = output };
                shapes[output] = shapes[x];
                shapes.Remove(x);
                alias.Remove(x);
                producer.Remove(x);
                producer[output] = p;
                alias[output] = output;
                return;
            }
            // Standalone BatchNorm: a depthwise 1×1 convolution.
            RequireRank(node, x, 3, "(C,H,W) per sample when the BatchNormalization does not follow a Conv");
            string name = UniqueName(node, "BatchNorm");
            var dw = AddTensor(name + ".weight", [channels, 1, 1, 1], scale.Select(v => (float)v).ToArray());
            var db = AddTensor(name + ".bias", [channels], shift.Select(v => (float)v).ToArray());
            EmitNamed(node, name, GraphOps.Conv, [x], [dw, db], new()
            {
                ["kernel"] = [1, 1], ["strides"] = [1, 1], ["pads"] = [0, 0, 0, 0], ["dilations"] = [1, 1], ["group"] = [channels],
            }, node.Outputs[0]);
        }

        void AddNode(OnnxNode node)
        {
            bool c0 = IsConst(node, 0), c1 = IsConst(node, 1);
            if (c0 && c1) throw ModelImportException.Node(file, node, "adding two constants is not supported");
            if (!c0 && !c1)
            {
                string a = Dynamic(node, 0), b = Dynamic(node, 1);
                if (!shapes[a].SequenceEqual(shapes[b]))
                    throw ModelImportException.Node(file, node, $"inputs have per-sample shapes {GraphOps.Show(shapes[a])} and {GraphOps.Show(shapes[b])}; broadcasting Add is not supported");
                Emit(node, GraphOps.Add, [a, b], [], []);
                return;
            }
            // activation + constant: a bias after a bias-free MatMul/Gemm.
            string x = Dynamic(node, c0 ? 1 : 0);
            var bias = constants[node.Inputs[c0 ? 0 : 1]];
            if (producer.TryGetValue(x, out int p) && nodes[p].Op == GraphOps.Linear && nodes[p].Weights.Length == 1
                && onnxConsumers.GetValueOrDefault(x) == 1 && bias.F is not null)
            {
                var lin = nodes[p];
                int outFeatures = tensors[lin.Weights[0]].Shape[0];
                if (bias.Count == outFeatures || bias.Count == 1)
                {
                    var data = bias.Count == 1 ? Enumerable.Repeat(bias.F[0], outFeatures).ToArray() : bias.F;
                    string biasName = AddTensor(lin.Name + ".bias", [outFeatures], data);
                    var output = node.Outputs[0];
                    nodes[p] = lin with { Weights = [lin.Weights[0], biasName], Output = output };
                    shapes[output] = shapes[x];
                    shapes.Remove(x);
                    alias.Remove(x);
                    producer.Remove(x);
                    producer[output] = p;
                    alias[output] = output;
                    return;
                }
            }
            throw ModelImportException.Node(file, node, "adding a constant to an activation is only supported as the bias right after a MatMul/Gemm without bias");
        }
    }
}
