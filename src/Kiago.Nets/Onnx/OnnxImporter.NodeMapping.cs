// Node mapping: the compute ops (Conv, pooling, Gemm, MatMul) and the element-wise functions (Unary) onto graph-IR nodes.
using Kiago.Nets.Graph;
using Kiago.Kernels;

namespace Kiago.Nets.Onnx;

public static partial class OnnxImporter
{
    sealed partial class Importer
    {
        // ---- compute ops -----------------------------------------------------------------------------------------------

        Dictionary<string, int[]> SpatialAttributes(OnnxNode node, int[] kernel, bool pool)
        {
            string autoPad = node.Attribute("auto_pad")?.S ?? "NOTSET";
            if (autoPad is not ("NOTSET" or "VALID" or ""))
                throw ModelImportException.UnsupportedAttribute(file, node, "auto_pad", autoPad, "NOTSET or VALID; export with explicit pads");
            var strides = ToInts(Ints(node, "strides", [1, 1]));
            var dilations = ToInts(Ints(node, "dilations", [1, 1]));
            var pads = ToInts(Ints(node, "pads", [0, 0, 0, 0]));
            if (autoPad == "VALID") pads = [0, 0, 0, 0];
            if (strides.Length != 2 || dilations.Length != 2 || pads.Length != 4)
                throw ModelImportException.Node(file, node, "expected 2-D strides, dilations and pads");
            var attrs = new Dictionary<string, int[]>
            {
                ["kernel"] = kernel, ["strides"] = strides, ["pads"] = [pads[0], pads[1], pads[2], pads[3]], ["dilations"] = dilations,
            };
            if (pool) attrs["ceil"] = [(int)Int(node, "ceil_mode", 0)];
            return attrs;
        }

        void ConvNode(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            var w = ConstInput(node, 1, "weight");
            var b = OptionalConst(node, 2, "bias");
            if (w.F is null || w.Shape.Length != 4)
                throw ModelImportException.Node(file, node, $"weight must be a 4-D float tensor (only 2-D convolutions are supported), has shape [{string.Join(",", w.Shape)}]");
            RequireRank(node, x, 3, "(C,H,W) per sample (2-D convolution)");
            var kernel = ToInts(Ints(node, "kernel_shape", [w.Shape[2], w.Shape[3]]));
            var attrs = SpatialAttributes(node, kernel, pool: false);
            attrs["group"] = [(int)Int(node, "group", 1)];
            string name = UniqueName(node, "Conv");
            var weights = new List<string> { AddTensor(name + ".weight", ToInts(w.Shape), w.F) };
            if (b is not null)
            {
                if (b.F is null) throw ModelImportException.Node(file, node, "bias must be float");
                weights.Add(AddTensor(name + ".bias", [b.F.Length], b.F));
            }
            EmitNamed(node, name, GraphOps.Conv, [x], [.. weights], attrs, node.Outputs[0]);
        }

        /// <summary>Tanh, Exp, Log, Sqrt, Neg, Abs, Softplus, LeakyRelu (attribute alpha), Clip (bounds as constant inputs, or attributes before opset 11), Erf, Pow (constant exponent).</summary>
        void UnaryNode(OnnxNode node)
        {
            var kind = Enum.Parse<UnaryKind>(node.OpType);
            float alpha = kind == UnaryKind.LeakyRelu ? Float(node, "alpha", 0.01f) : 0.01f;
            if (kind == UnaryKind.Pow)
            {
                // x^c with a constant scalar exponent (e.g. tanh-GELU's x³); a computed exponent is not supported
                if (!IsConst(node, 1)) throw ModelImportException.Node(file, node, "the exponent must be a constant; x^y of two activations is not supported");
                var exponent = constants[node.Inputs[1]];
                float? c = exponent.Count == 1 ? exponent.F is { } f ? f[0] : exponent.I is { } i ? i[0] : null : null;
                alpha = c ?? throw ModelImportException.Node(file, node, $"the exponent must be one number, has shape {GraphOps.Show([.. exponent.Shape.Select(d => (int)d)])}");
                if (!float.IsFinite(alpha)) throw ModelImportException.Node(file, node, $"the exponent {alpha} is not finite");
            }
            float min = float.MinValue, max = float.MaxValue; // finite: .kgw tensors must be finite
            if (kind == UnaryKind.Clip)
            {
                float Bound(int k, string attribute, float fallback) =>
                    k < node.Inputs.Length && node.Inputs[k].Length > 0
                        ? ConstInput(node, k, attribute).F is { Length: 1 } v ? v[0] : throw ModelImportException.Node(file, node, $"{attribute} must be one float")
                        : Float(node, attribute, fallback);
                min = Bound(1, "min", float.MinValue);
                max = Bound(2, "max", float.MaxValue);
                if (!(min <= max)) throw ModelImportException.Node(file, node, $"min {min} is above max {max}");
            }
            string name = UniqueName(node, node.OpType);
            string parameters = AddTensor(name + ".params", [3], [alpha, min, max]);
            EmitNamed(node, name, GraphOps.Unary, [Dynamic(node, 0)], [parameters], new() { ["kind"] = [(int)kind] }, node.Outputs[0]);
        }

        void Pool(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            if (node.Outputs.Length > 1 && node.Outputs[1].Length > 0 && onnxConsumers.ContainsKey(node.Outputs[1]))
                throw ModelImportException.Node(file, node, "the indices output is not supported");
            if (Int(node, "storage_order", 0) != 0)
                throw ModelImportException.UnsupportedAttribute(file, node, "storage_order", "1", "0 (row major)");
            var kernel = Ints(node, "kernel_shape", []);
            int[] s = shapes[x];
            bool oneD = kernel.Length == 1 && s.Length == 2;
            if (!(kernel.Length == 2 && s.Length == 3) && !oneD)
                throw ModelImportException.Node(file, node, $"kernel_shape [{string.Join(",", kernel)}] on per-sample shape {GraphOps.Show(s)}: only 1-D and 2-D pooling is supported");
            Dictionary<string, int[]> attrs;
            if (oneD)
            {
                // 1-D pooling runs as 2-D pooling over a height-1 map.
                long stride = Ints(node, "strides", [1])[0], dilation = Ints(node, "dilations", [1])[0];
                var p = Ints(node, "pads", [0, 0]);
                string autoPad = node.Attribute("auto_pad")?.S ?? "NOTSET";
                if (autoPad is not ("NOTSET" or "VALID" or ""))
                    throw ModelImportException.UnsupportedAttribute(file, node, "auto_pad", autoPad, "NOTSET or VALID");
                attrs = new()
                {
                    ["kernel"] = [1, (int)kernel[0]], ["strides"] = [1, (int)stride], ["pads"] = [0, (int)p[0], 0, (int)p[1]],
                    ["dilations"] = [1, (int)dilation], ["ceil"] = [(int)Int(node, "ceil_mode", 0)],
                };
                string name = UniqueName(node, node.OpType);
                string lifted = name + ".as2d";
                EmitNamed(node, name + "_to2d", GraphOps.Reshape, [x], [], new() { ["shape"] = [s[0], 1, s[1]] }, lifted);
                if (node.OpType == "AveragePool") attrs["count_include_pad"] = [(int)Int(node, "count_include_pad", 0)];
                string pooled = EmitNamed(node, name, node.OpType == "MaxPool" ? GraphOps.MaxPool : GraphOps.AveragePool, [lifted], [], attrs, name + ".out2d");
                EmitNamed(node, name + "_to1d", GraphOps.Reshape, [pooled], [], new() { ["shape"] = [s[0], shapes[pooled][2]] }, node.Outputs[0]);
                return;
            }
            attrs = SpatialAttributes(node, ToInts(kernel), pool: true);
            if (node.OpType == "AveragePool") attrs["count_include_pad"] = [(int)Int(node, "count_include_pad", 0)];
            Emit(node, node.OpType == "MaxPool" ? GraphOps.MaxPool : GraphOps.AveragePool, [x], [], attrs);
        }

        void GemmNode(OnnxNode node)
        {
            if (Int(node, "transA", 0) != 0)
                throw ModelImportException.UnsupportedAttribute(file, node, "transA", "1", "transA=0");
            if (!IsConst(node, 1))
                throw ModelImportException.Node(file, node, "input B must be a constant weight matrix; products of two activations are not supported");
            string x = Dynamic(node, 0);
            RequireRank(node, x, 1, "a vector per sample, i.e. a 2-D (batch, features) input");
            var b = ConstInput(node, 1, "B");
            var c = OptionalConst(node, 2, "C");
            float alpha = Float(node, "alpha", 1f), beta = Float(node, "beta", 1f);
            bool transB = Int(node, "transB", 0) != 0;
            if (b.F is null || b.Shape.Length != 2) throw ModelImportException.Node(file, node, "B must be a 2-D float matrix");
            int rows = (int)b.Shape[0], cols = (int)b.Shape[1];
            int outFeatures = transB ? rows : cols, inFeatures = transB ? cols : rows;
            var w = new float[rows * cols];
            for (int o = 0; o < outFeatures; o++)
                for (int i = 0; i < inFeatures; i++)
                    w[o * inFeatures + i] = alpha * (transB ? b.F[o * cols + i] : b.F[i * cols + o]);
            string name = UniqueName(node, "Gemm");
            var weights = new List<string> { AddTensor(name + ".weight", [outFeatures, inFeatures], w) };
            if (c is not null && beta != 0)
            {
                if (c.F is null || (c.Count != outFeatures && c.Count != 1) || c.Shape.Length > 2 || (c.Shape.Length == 2 && c.Shape[0] != 1))
                    throw ModelImportException.Node(file, node, $"C of shape [{string.Join(",", c.Shape)}] is not a per-output bias ({outFeatures} values)");
                var bias = c.Count == 1 ? Enumerable.Repeat(beta * c.F[0], outFeatures).ToArray() : c.F.Select(v => beta * v).ToArray();
                weights.Add(AddTensor(name + ".bias", [outFeatures], bias));
            }
            EmitNamed(node, name, GraphOps.Linear, [x], [.. weights], [], node.Outputs[0]);
        }

        /// <summary>MatMul by a constant 2-D matrix: a Linear over the last axis (any rank); of two activations: a batch of products.</summary>
        void MatMulNode(OnnxNode node)
        {
            if (IsConst(node, 0))
                throw ModelImportException.Node(file, node, "input A is a constant: a constant times an activation (W·x) is not supported; write x·Wᵀ");
            if (!IsConst(node, 1))
            {
                MatMulOfActivations(node);
                return;
            }
            string x = Dynamic(node, 0);
            var b = ConstInput(node, 1, "B");
            if (b.F is null || b.Shape.Length != 2) throw ModelImportException.Node(file, node, $"B must be a 2-D float matrix, has shape [{string.Join(",", b.Shape)}]");
            if (shapes[x].Length < 1 || shapes[x][^1] != b.Shape[0])
                throw ModelImportException.Node(file, node, $"input of per-sample shape {GraphOps.Show(shapes[x])} does not fit B [{string.Join(",", b.Shape)}]");
            int inFeatures = (int)b.Shape[0], outFeatures = (int)b.Shape[1];
            var w = new float[b.F.Length];
            for (int o = 0; o < outFeatures; o++)
                for (int i = 0; i < inFeatures; i++)
                    w[o * inFeatures + i] = b.F[i * outFeatures + o];
            string name = UniqueName(node, "MatMul");
            EmitNamed(node, name, GraphOps.Linear, [x], [AddTensor(name + ".weight", [outFeatures, inFeatures], w)], [], node.Outputs[0]);
        }
    }
}
