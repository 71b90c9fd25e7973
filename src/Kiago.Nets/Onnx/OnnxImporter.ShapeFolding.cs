// Constant and shape-arithmetic folding: Constant, Shape, Gather, Concat, Cast, Transpose, (Un)Squeeze, Reshape, Flatten evaluated statically.
using Kiago.Nets.Graph;

namespace Kiago.Nets.Onnx;

public static partial class OnnxImporter
{
    sealed partial class Importer
    {
        // ---- constants and shape arithmetic ------------------------------------------------------------------------

        Const ConstantValue(OnnxNode node)
        {
            var a = node.Attributes.Count == 1 ? node.Attributes[0] : null;
            if (a is null) throw ModelImportException.Node(file, node, "expected exactly one value attribute");
            return a.Name switch
            {
                "value" when a.T is { } t && (t.Floats is not null || t.Int64s is not null) => FromTensor(t),
                "value_float" => new Const([], [a.F], null),
                "value_floats" => new Const([a.Floats.Length], a.Floats, null),
                "value_int" => new Const([], null, [a.I]),
                "value_ints" => new Const([a.Ints.Length], null, a.Ints),
                _ => throw ModelImportException.UnsupportedAttribute(file, node, a.Name, "…", "value (float/int tensor), value_float(s), value_int(s)"),
            };
        }

        void PassThrough(OnnxNode node)
        {
            for (int k = 1; k < node.Outputs.Length; k++)
                if (node.Outputs[k].Length > 0 && onnxConsumers.ContainsKey(node.Outputs[k]))
                    throw ModelImportException.Node(file, node, $"output {k} ('{node.Outputs[k]}', the dropout mask) is used; only inference is supported");
            if (IsConst(node, 0)) constants[node.Outputs[0]] = constants[node.Inputs[0]];
            else alias[node.Outputs[0]] = Dynamic(node, 0);
        }

        void ShapeOf(OnnxNode node)
        {
            long[] dims = IsConst(node, 0)
                ? constants[node.Inputs[0]].Shape
                : [Const.Batch, .. shapes[Dynamic(node, 0)].Select(d => (long)d)];
            long start = Int(node, "start", 0), end = Int(node, "end", dims.Length);
            if (start < 0) start += dims.Length;
            if (end < 0) end += dims.Length;
            start = Math.Clamp(start, 0, dims.Length);
            end = Math.Clamp(end, start, dims.Length);
            var slice = dims[(int)start..(int)end];
            constants[node.Outputs[0]] = new Const([slice.Length], null, slice);
        }

        void Gather(OnnxNode node)
        {
            if (!IsConst(node, 0))
                throw ModelImportException.Node(file, node, "gathering from activations is not supported (only from constants and shapes)");
            var data = constants[node.Inputs[0]];
            var index = ConstInput(node, 1, "indices");
            if (Int(node, "axis", 0) != 0 || data.Shape.Length != 1 || index.I is null)
                throw ModelImportException.Node(file, node, "only Gather on axis 0 of a 1-D constant with integer indices is supported");
            long n = data.Shape[0];
            long Pick(long i) => (i < 0 ? i + n : i) is var j && j >= 0 && j < n ? j : throw ModelImportException.Node(file, node, $"index {i} out of range for {n} values");
            constants[node.Outputs[0]] = new Const(index.Shape,
                data.F is null ? null : index.I.Select(i => data.F[Pick(i)]).ToArray(),
                data.I is null ? null : index.I.Select(i => data.I[Pick(i)]).ToArray());
        }

        void Concat(OnnxNode node)
        {
            if (!node.Inputs.All(i => constants.ContainsKey(i)))
                throw ModelImportException.Node(file, node, "concatenating activations is not supported (only constants and shapes)");
            var parts = node.Inputs.Select(i => constants[i]).ToList();
            if (parts.Any(p => p.Shape.Length != 1 || p.I is null))
                throw ModelImportException.Node(file, node, "only concatenation of 1-D integer constants (shapes) is supported");
            var values = parts.SelectMany(p => p.I!).ToArray();
            constants[node.Outputs[0]] = new Const([values.Length], null, values);
        }

        void Cast(OnnxNode node)
        {
            if (!IsConst(node, 0)) throw ModelImportException.Node(file, node, "Cast of activations is not supported (only of constants)");
            var c = constants[node.Inputs[0]];
            var to = (OnnxDataType)Int(node, "to", 0);
            constants[node.Outputs[0]] = to switch
            {
                OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16 =>
                    new Const(c.Shape, c.F ?? c.I!.Select(v => v == Const.Batch ? throw ModelImportException.Node(file, node, "cannot cast the batch size to float") : (float)v).ToArray(), null),
                OnnxDataType.Int64 or OnnxDataType.Int32 => new Const(c.Shape, null, c.I ?? c.F!.Select(v => (long)v).ToArray()),
                _ => throw ModelImportException.UnsupportedAttribute(file, node, "to", to.ToString(), "float, double, float16, int32, int64"),
            };
        }

        void Transpose(OnnxNode node)
        {
            if (!IsConst(node, 0)) throw ModelImportException.Node(file, node, "Transpose of activations is not supported (only of constant 2-D weights)");
            var c = constants[node.Inputs[0]];
            var perm = Ints(node, "perm", [1, 0]);
            if (c.Shape.Length != 2 || perm is not [1, 0] || c.F is null)
                throw ModelImportException.Node(file, node, "only the transpose of a 2-D float constant is supported");
            int r = (int)c.Shape[0], k = (int)c.Shape[1];
            var t = new float[c.F.Length];
            for (int i = 0; i < r; i++)
                for (int j = 0; j < k; j++)
                    t[j * r + i] = c.F[i * k + j];
            constants[node.Outputs[0]] = new Const([k, r], t, null);
        }

        void SqueezeOrUnsqueeze(OnnxNode node)
        {
            bool squeeze = node.OpType == "Squeeze";
            long[]? axes = node.Inputs.Length > 1 && node.Inputs[1].Length > 0
                ? ConstInput(node, 1, "axes").I
                : node.Attribute("axes") is { } a ? a.Ints : null;
            bool isConst = IsConst(node, 0);
            long[] full = isConst ? constants[node.Inputs[0]].Shape : [-1, .. shapes[Dynamic(node, 0)].Select(d => (long)d)];
            var dims = full.ToList();
            if (squeeze)
            {
                int rank = dims.Count;
                var drop = (axes ?? Enumerable.Range(0, rank).Where(i => full[i] == 1).Select(i => (long)i).ToArray())
                    .Select(x => x < 0 ? x + rank : x).OrderByDescending(x => x).ToList();
                foreach (var ax in drop)
                {
                    if (ax < 0 || ax >= rank || full[ax] != 1)
                        throw ModelImportException.Node(file, node, $"cannot squeeze axis {ax} of shape [{string.Join(",", full.Select(d => d == -1 ? "batch" : d.ToString()))}]");
                    dims.RemoveAt((int)ax);
                }
            }
            else
            {
                if (axes is null) throw ModelImportException.Node(file, node, "axes missing");
                int rank = dims.Count + axes.Length;
                foreach (var ax in axes.Select(x => x < 0 ? x + rank : x).OrderBy(x => x))
                {
                    if (ax < 0 || ax > dims.Count) throw ModelImportException.Node(file, node, $"axis {ax} out of range");
                    dims.Insert((int)ax, 1);
                }
            }
            if (isConst)
            {
                var c = constants[node.Inputs[0]];
                constants[node.Outputs[0]] = c with { Shape = [.. dims] };
                return;
            }
            if (dims.Count == 0 || dims[0] != -1 || dims.Skip(1).Any(d => d == -1))
                throw ModelImportException.Node(file, node, "squeezing or unsqueezing the batch dimension (axis 0) is not supported");
            EmitReshape(node, Dynamic(node, 0), ToInts(dims.Skip(1)));
        }

        void ReshapeNode(OnnxNode node)
        {
            var target = ConstInput(node, 1, "shape");
            if (target.I is null || target.Shape.Length != 1) throw ModelImportException.Node(file, node, "shape must be a 1-D integer constant");
            bool allowZero = Int(node, "allowzero", 0) != 0;
            if (IsConst(node, 0))
                throw ModelImportException.Node(file, node, "reshaping constants is not supported");
            string x = Dynamic(node, 0);
            int[] inShape = shapes[x];
            int size = GraphOps.Size(inShape);
            var t = target.I.ToList();
            if (t.Skip(1).Any(v => v == Const.Batch))
                throw ModelImportException.Node(file, node, "the batch size may only appear as the first entry of the target shape");
            List<long> rest;
            // The first entry is the batch when it is the batch size itself (Shape→Gather), 0 (copy), or the batch size
            // the model was exported with (fixed-shape exports).
            if (t.Count > 0 && (t[0] == Const.Batch || (t[0] == 0 && !allowZero) || (exportedBatch > 0 && t[0] == exportedBatch)))
                rest = t.Skip(1).ToList();
            else if (t.Count > 0 && t[0] == -1 && t.Skip(1).All(v => v > 0) && t.Skip(1).Aggregate(1L, (a, b) => a * b) == size)
                rest = t.Skip(1).ToList();
            else if (t is [-1] && size == 1)
                rest = [];
            else
                throw ModelImportException.Node(file, node,
                    $"target shape [{string.Join(",", t.Select(v => v == Const.Batch ? "batch" : v.ToString()))}] would mix the batch dimension into the per-sample shape {GraphOps.Show(inShape)}");
            // Resolve 0 (copy) and -1 (infer) within the sample.
            var dims = new int[rest.Count];
            int infer = -1;
            long known = 1;
            for (int k = 0; k < rest.Count; k++)
            {
                long v = rest[k];
                if (v == 0 && !allowZero)
                {
                    if (k + 1 >= inShape.Length + 1) throw ModelImportException.Node(file, node, $"0 at position {k + 1} has no input dimension to copy");
                    v = inShape[k];
                }
                if (v == -1)
                {
                    if (infer >= 0) throw ModelImportException.Node(file, node, "more than one -1 in the target shape");
                    infer = k;
                    continue;
                }
                if (v <= 0) throw ModelImportException.Node(file, node, $"invalid target dimension {v}");
                dims[k] = checked((int)v);
                known *= v;
            }
            if (infer >= 0)
            {
                if (known == 0 || size % known != 0) throw ModelImportException.Node(file, node, $"cannot infer -1: {size} values per sample");
                dims[infer] = (int)(size / known);
            }
            if (GraphOps.Size(dims) != size)
                throw ModelImportException.Node(file, node, $"cannot reshape per-sample {GraphOps.Show(inShape)} to {GraphOps.Show(dims)}");
            EmitReshape(node, x, dims);
        }

        void Flatten(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            int[] s = shapes[x];
            long axis = Int(node, "axis", 1);
            if (axis < 0) axis += s.Length + 1;
            if (axis < 1 || axis > s.Length + 1)
                throw ModelImportException.UnsupportedAttribute(file, node, "axis", axis.ToString(), "axis >= 1: flattening into the batch dimension is not supported");
            int outer = s.Take((int)axis - 1).Aggregate(1, (a, b) => a * b);
            int inner = s.Skip((int)axis - 1).Aggregate(1, (a, b) => a * b);
            // ONNX Flatten always gives a 2-D result: (batch · outer, inner); outer must be 1 to keep the batch apart.
            if (outer != 1)
                throw ModelImportException.UnsupportedAttribute(file, node, "axis", axis.ToString(), "axis 1 (or an axis after which all leading per-sample dimensions are 1)");
            EmitReshape(node, x, [inner]);
        }
    }
}
