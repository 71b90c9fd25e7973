// Fusion rewrites: BatchNormalization and Add/Sub/Mul/Div with a constant become one per-channel affine map, folded into
// the Conv/Gemm/MatMul before it when that is the only reader (else a depthwise 1×1 Conv or a diagonal Linear).
using Kiago.Kernels;
using Kiago.Nets.Graph;

namespace Kiago.Nets.Onnx;

public static partial class OnnxImporter
{
    sealed partial class Importer
    {
        /// <summary>
        /// Add/Sub/Mul/Div of two activations: equal shapes, or a vector and a one-value vector (e.g. x / x.sum(-1,
        /// keepdim=True)), the one value broadcast by a Gather of column 0 (its backward sums the row). Sub is a + (−b),
        /// Div is a · b⁻¹ (Unary Neg and Pow −1), so every form has the ops' own gradients.
        /// </summary>
        void TwoActivations(OnnxNode node)
        {
            string a = Dynamic(node, 0), b = Dynamic(node, 1);
            if (!shapes[a].SequenceEqual(shapes[b]))
            {
                int[] sa = shapes[a], sb = shapes[b];
                if (sa is [var wa] && sb is [1] && wa > 1) b = Broadcast(node, b, wa);
                else if (sb is [var wb] && sa is [1] && wb > 1) a = Broadcast(node, a, wb);
                else
                    throw ModelImportException.Node(file, node, $"inputs have per-sample shapes {GraphOps.Show(sa)} and {GraphOps.Show(sb)}: " +
                        $"{node.OpType} of two activations needs equal shapes, or a vector and a one-value vector");
            }
            switch (node.OpType)
            {
                case "Add": Emit(node, GraphOps.Add, [a, b], [], []); return;
                case "Mul": Emit(node, GraphOps.Mul, [a, b], [], []); return;
                case "Sub": Emit(node, GraphOps.Add, [a, Internal(node, UnaryKind.Neg, 0.01f, b)], [], []); return;
                default: Emit(node, GraphOps.Mul, [a, Internal(node, UnaryKind.Pow, -1f, b)], [], []); return;
            }
        }

        /// <summary>A one-value vector repeated to <paramref name="width"/> columns (Gather of column 0, backward: the row sum).</summary>
        string Broadcast(OnnxNode node, string value, int width)
        {
            string name = UniqueName(node, node.OpType + "_broadcast");
            return EmitNamed(node, name, GraphOps.Gather, [value], [], new() { ["indices"] = new int[width] }, name + ".out");
        }

        string Internal(OnnxNode node, UnaryKind kind, float alpha, string value)
        {
            string name = UniqueName(node, node.OpType + "_" + kind.ToString().ToLowerInvariant());
            string parameters = AddTensor(name + ".params", [3], [alpha, float.MinValue, float.MaxValue]);
            return EmitNamed(node, name, GraphOps.Unary, [value], [parameters], new() { ["kind"] = [(int)kind] }, name + ".out");
        }

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
            ApplyAffine(node, x, scale, shift, "BatchNorm");
        }

        /// <summary>
        /// y = scale[c]·x + shift[c] per channel c (the first per-sample dimension: a vector's features, a map's
        /// channels). Folded into the producing Conv or Linear when nothing else reads its output; otherwise a
        /// depthwise 1×1 Conv on maps or a diagonal Linear on vectors. Gradients come from those ops.
        /// </summary>
        void ApplyAffine(OnnxNode node, string x, double[] scale, double[] shift, string what)
        {
            int channels = scale.Length;
            if (producer.TryGetValue(x, out int p) && nodes[p].Op is GraphOps.Conv or GraphOps.Linear && onnxConsumers.GetValueOrDefault(x) == 1
                && !alias.Where(kv => kv.Value == x).Any(kv => kv.Key != x))
            {
                var layer = nodes[p];
                var w = tensors[layer.Weights[0]];
                int perOut = w.ElementCount / w.Shape[0];
                var folded = new float[w.Data.Length];
                for (int o = 0; o < w.Shape[0]; o++)
                    for (int i = 0; i < perOut; i++)
                        folded[o * perOut + i] = (float)(w.Data[o * perOut + i] * scale[o]);
                var oldBias = layer.Weights.Length > 1 ? tensors[layer.Weights[1]].Data : new float[channels];
                var bias = new float[channels];
                for (int o = 0; o < channels; o++) bias[o] = (float)(oldBias[o] * scale[o] + shift[o]);
                AddTensor(layer.Weights[0], w.Shape, folded);
                string biasName = AddTensor(layer.Name + ".bias", [channels], bias);
                var output = node.Outputs[0];
                nodes[p] = layer with { Weights = [layer.Weights[0], biasName], Output = output };
                shapes[output] = shapes[x];
                shapes.Remove(x);
                alias.Remove(x);
                producer.Remove(x);
                producer[output] = p;
                alias[output] = output;
                return;
            }
            string name = UniqueName(node, what);
            if (shapes[x].Length == 3)
            {
                // a depthwise 1×1 convolution
                var dw = AddTensor(name + ".weight", [channels, 1, 1, 1], [.. scale.Select(v => (float)v)]);
                var db = AddTensor(name + ".bias", [channels], [.. shift.Select(v => (float)v)]);
                EmitNamed(node, name, GraphOps.Conv, [x], [dw, db], new()
                {
                    ["kernel"] = [1, 1], ["strides"] = [1, 1], ["pads"] = [0, 0, 0, 0], ["dilations"] = [1, 1], ["group"] = [channels],
                }, node.Outputs[0]);
                return;
            }
            if (shapes[x].Length == 1)
            {
                // a diagonal Linear
                var diagonal = new float[channels * channels];
                for (int c = 0; c < channels; c++) diagonal[c * channels + c] = (float)scale[c];
                var lw = AddTensor(name + ".weight", [channels, channels], diagonal);
                var lb = AddTensor(name + ".bias", [channels], [.. shift.Select(v => (float)v)]);
                EmitNamed(node, name, GraphOps.Linear, [x], [lw, lb], [], node.Outputs[0]);
                return;
            }
            throw ModelImportException.Node(file, node, $"per-sample shape {GraphOps.Show(shapes[x])}: an element-wise {node.OpType} with a constant " +
                "runs on vectors (features) and (C,H,W) maps, or right after a Conv/Gemm/MatMul");
        }

        /// <summary>
        /// The constant operand of an element-wise op as one value per channel of <paramref name="x"/>: a scalar, or
        /// varying along the first per-sample dimension only (shape [C], [1,C] for vectors; [C,1,1], [1,C,1,1] for maps).
        /// </summary>
        double[] PerChannel(OnnxNode node, Const c, string x)
        {
            var sample = shapes[x];
            int channels = sample.Length > 0 ? sample[0] : 1;
            if (c.F is not { } data) throw ModelImportException.Node(file, node, "the constant operand must be float");
            if (c.Count == 1) return [.. Enumerable.Repeat((double)data[0], channels)];
            // align the constant's dimensions to the right of [batch, ..sample], as ONNX broadcasting does
            var dims = c.Shape.SkipWhile((d, i) => d == 1 && c.Shape.Length - i > sample.Length).ToArray();
            bool perChannel = dims.Length == sample.Length
                && dims[0] == channels && dims.Skip(1).All(d => d == 1);
            if (!perChannel)
                throw ModelImportException.Node(file, node, $"constant of shape {GraphOps.Show([.. c.Shape.Select(d => (int)d)])} on per-sample shape {GraphOps.Show(sample)}: " +
                    "only a scalar or one value per channel (the first per-sample dimension) is supported");
            return [.. data.Select(v => (double)v)];
        }

        /// <summary>Mul, Div, Sub with one constant operand (e.g. an output head's y·std + mean): a per-channel affine map.</summary>
        void ArithmeticWithConstant(OnnxNode node)
        {
            bool c0 = IsConst(node, 0), c1 = IsConst(node, 1);
            if (!c0 && !c1)
            {
                TwoActivations(node);
                return;
            }
            if (c0 == c1)
                throw ModelImportException.Node(file, node, c0 ? $"{node.OpType} of two constants is not supported"
                    : $"{node.OpType} of two activations is not supported (one operand must be a constant)");
            string x = Dynamic(node, c0 ? 1 : 0);
            var c = PerChannel(node, constants[node.Inputs[c0 ? 0 : 1]], x);
            int n = c.Length;
            double[] ones = [.. Enumerable.Repeat(1.0, n)], zeros = new double[n];
            switch (node.OpType, c0)
            {
                case ("Mul", _): ApplyAffine(node, x, c, zeros, "Mul"); break;
                case ("Sub", false): ApplyAffine(node, x, ones, [.. c.Select(v => -v)], "Sub"); break;
                case ("Sub", true): ApplyAffine(node, x, [.. ones.Select(v => -v)], c, "Sub"); break;
                case ("Div", false):
                    if (c.Any(v => v == 0)) throw ModelImportException.Node(file, node, "division by a constant that is zero");
                    ApplyAffine(node, x, [.. c.Select(v => 1 / v)], zeros, "Div");
                    break;
                default: throw ModelImportException.Node(file, node, "a constant divided by an activation is not supported");
            }
        }

        void AddNode(OnnxNode node)
        {
            bool c0 = IsConst(node, 0), c1 = IsConst(node, 1);
            if (c0 && c1) throw ModelImportException.Node(file, node, "adding two constants is not supported");
            if (!c0 && !c1)
            {
                TwoActivations(node);
                return;
            }
            // activation + constant: a bias (folded into the Conv/Gemm/MatMul before it when it is the only reader)
            string x = Dynamic(node, c0 ? 1 : 0);
            var shift = PerChannel(node, constants[node.Inputs[c0 ? 0 : 1]], x);
            ApplyAffine(node, x, [.. Enumerable.Repeat(1.0, shift.Length)], shift, "Add");
        }
    }
}
