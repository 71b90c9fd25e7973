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
        /// Add/Sub/Mul/Div of two activations, broadcast to their common shape (ONNX rules; each broadcast is a Gather, whose
        /// backward sums the gradient over the repeats). Sub is a + (−b), Div is a · b⁻¹ (Unary Neg and Pow −1), so every
        /// form has the ops' own gradients.
        /// </summary>
        void TwoActivations(OnnxNode node)
        {
            var (a, b) = Broadcast(node, Dynamic(node, 0), Dynamic(node, 1));
            switch (node.OpType)
            {
                case "Add": Emit(node, GraphOps.Add, [a, b], [], []); return;
                case "Mul": Emit(node, GraphOps.Mul, [a, b], [], []); return;
                case "Sub": Emit(node, GraphOps.Add, [a, Internal(node, UnaryKind.Neg, 0.01f, b)], [], []); return;
                default: Emit(node, GraphOps.Mul, [a, Internal(node, UnaryKind.Pow, -1f, b)], [], []); return;
            }
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

        /// <summary>Which axis a constant operand of an element-wise op varies along.</summary>
        enum ConstantAxis { Scalar, First, Last }

        /// <summary>
        /// y = scale[c]·x + shift[c] along <paramref name="axis"/> (one value each for a scalar; per channel = the first
        /// per-sample dimension: a vector's features, a map's channels; or per feature of the last axis). Folded into the
        /// producing Conv or Linear when nothing else reads its output and the axis is its output channels; otherwise a
        /// depthwise 1×1 Conv on maps, a diagonal Linear on vectors and over the last axis, or an element-wise Affine for a
        /// scalar on anything but a vector. Gradients come from those ops.
        /// </summary>
        void ApplyAffine(OnnxNode node, string x, double[] scale, double[] shift, string what, ConstantAxis axis = ConstantAxis.First)
        {
            int rank = shapes[x].Length;
            bool scalar = axis == ConstantAxis.Scalar;
            if (rank == 1 && !scalar) axis = ConstantAxis.First;
            double Scale(int c) => scale.Length == 1 ? scale[0] : scale[c];
            double Shift(int c) => shift.Length == 1 ? shift[0] : shift[c];
            if (producer.TryGetValue(x, out int p) && nodes[p].Op is GraphOps.Conv or GraphOps.Linear && onnxConsumers.GetValueOrDefault(x) == 1
                && !alias.Where(kv => kv.Value == x).Any(kv => kv.Key != x)
                && (scalar || rank == 1 || (nodes[p].Op == GraphOps.Conv ? axis == ConstantAxis.First : axis == ConstantAxis.Last)))
            {
                var layer = nodes[p];
                var w = tensors[layer.Weights[0]];
                int channels = w.Shape[0];
                int perOut = w.ElementCount / channels;
                var folded = new float[w.Data.Length];
                for (int o = 0; o < channels; o++)
                    for (int i = 0; i < perOut; i++)
                        folded[o * perOut + i] = (float)(w.Data[o * perOut + i] * Scale(o));
                var oldBias = layer.Weights.Length > 1 ? tensors[layer.Weights[1]].Data : new float[channels];
                var bias = new float[channels];
                for (int o = 0; o < channels; o++) bias[o] = (float)(oldBias[o] * Scale(o) + Shift(o));
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
            int[] s = shapes[x];
            if (scalar && rank != 1)
            {
                string parameters = AddTensor(name + ".params", [3], [(float)scale[0], (float)shift[0], 0f]);
                EmitNamed(node, name, GraphOps.Unary, [x], [parameters], new() { ["kind"] = [(int)UnaryKind.Affine] }, node.Outputs[0]);
                return;
            }
            if (rank == 3 && axis != ConstantAxis.Last)
            {
                // a depthwise 1×1 convolution
                int channels = s[0];
                var dw = AddTensor(name + ".weight", [channels, 1, 1, 1], [.. Enumerable.Range(0, channels).Select(c => (float)Scale(c))]);
                var db = AddTensor(name + ".bias", [channels], [.. Enumerable.Range(0, channels).Select(c => (float)Shift(c))]);
                EmitNamed(node, name, GraphOps.Conv, [x], [dw, db], new()
                {
                    ["kernel"] = [1, 1], ["strides"] = [1, 1], ["pads"] = [0, 0, 0, 0], ["dilations"] = [1, 1], ["group"] = [channels],
                }, node.Outputs[0]);
                return;
            }
            if (rank == 1 || axis == ConstantAxis.Last)
            {
                // a diagonal Linear over the last axis
                int width = s[^1];
                var diagonal = new float[width * width];
                for (int c = 0; c < width; c++) diagonal[c * width + c] = (float)Scale(c);
                var lw = AddTensor(name + ".weight", [width, width], diagonal);
                var lb = AddTensor(name + ".bias", [width], [.. Enumerable.Range(0, width).Select(c => (float)Shift(c))]);
                EmitNamed(node, name, GraphOps.Linear, [x], [lw, lb], [], node.Outputs[0]);
                return;
            }
            throw ModelImportException.Node(file, node, $"per-sample shape {GraphOps.Show(shapes[x])}: an element-wise {node.OpType} with one constant per " +
                "first-axis channel runs on vectors and (C,H,W) maps, or right after a Conv/Gemm/MatMul");
        }

        /// <summary>
        /// The constant operand of an element-wise op on <paramref name="x"/>: a scalar (one value), one value per channel
        /// (the first per-sample dimension: shape [C], [1,C] for vectors; [C,1,1], [1,C,1,1] for maps), or one value per
        /// feature of the last axis ([W], [1,..,1,W]: a bias after a MatMul on tokens).
        /// </summary>
        (double[] Values, ConstantAxis Axis) PerChannel(OnnxNode node, Const c, string x)
        {
            var sample = shapes[x];
            if (c.F is not { } data) throw ModelImportException.Node(file, node, "the constant operand must be float");
            if (c.Count == 1) return ([data[0]], ConstantAxis.Scalar);
            // align the constant's dimensions to the right of [batch, ..sample], as ONNX broadcasting does
            var dims = c.Shape.SkipWhile((d, i) => d == 1 && c.Shape.Length - i > sample.Length).ToArray();
            bool firstAxis = dims.Length == sample.Length && sample.Length > 0
                && dims[0] == sample[0] && dims.Skip(1).All(d => d == 1);
            if (firstAxis) return ([.. data.Select(v => (double)v)], ConstantAxis.First);
            bool lastAxis = dims.Length <= sample.Length && dims.Length > 0 && dims[^1] == sample[^1] && dims[..^1].All(d => d == 1);
            if (lastAxis) return ([.. data.Select(v => (double)v)], ConstantAxis.Last);
            throw ModelImportException.Node(file, node, $"constant of shape {GraphOps.Show([.. c.Shape.Select(d => (int)d)])} on per-sample shape {GraphOps.Show(sample)}: " +
                "only a scalar, one value per channel (the first per-sample dimension) or one per feature of the last axis is supported");
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
            var (c, axis) = PerChannel(node, constants[node.Inputs[c0 ? 0 : 1]], x);
            int n = c.Length;
            double[] ones = [.. Enumerable.Repeat(1.0, n)], zeros = new double[n];
            switch (node.OpType, c0)
            {
                case ("Mul", _): ApplyAffine(node, x, c, zeros, "Mul", axis); break;
                case ("Sub", false): ApplyAffine(node, x, ones, [.. c.Select(v => -v)], "Sub", axis); break;
                case ("Sub", true): ApplyAffine(node, x, [.. ones.Select(v => -v)], c, "Sub", axis); break;
                case ("Div", false):
                    if (c.Any(v => v == 0)) throw ModelImportException.Node(file, node, "division by a constant that is zero");
                    ApplyAffine(node, x, [.. c.Select(v => 1 / v)], zeros, "Div", axis);
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
            var (shift, axis) = PerChannel(node, constants[node.Inputs[c0 ? 0 : 1]], x);
            ApplyAffine(node, x, [.. Enumerable.Repeat(1.0, shift.Length)], shift, "Add", axis);
        }
    }
}
