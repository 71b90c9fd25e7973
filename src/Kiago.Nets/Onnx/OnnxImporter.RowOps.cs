// Softmax/LogSoftmax and ReduceSum/ReduceMean/ReduceMax (a RowOp over the last axis; another axis is first moved last),
// and Gather/Slice/Concat of activations along any axis with constant indices (index maps: see OnnxImporter.Tensors.cs).
using System.Globalization;
using Kiago.Kernels;
using Kiago.Nets.Graph;

namespace Kiago.Nets.Onnx;

public static partial class OnnxImporter
{
    sealed partial class Importer
    {
        /// <summary>Whether ONNX axis <paramref name="axis"/> (batch = 0, negative from the end) is the last axis of <paramref name="x"/>.</summary>
        bool IsLastAxis(string x, long axis) => axis == -1 || axis == shapes[x].Length;

        void SoftmaxNode(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            // opset ≥ 13: axis −1 by default and one axis; before, axis 1 with the input flattened to 2-D from the axis on
            long axis = node.Attribute("axis") is { } a ? a.I : model.Opset >= 13 ? -1 : 1;
            var kind = node.OpType == "Softmax" ? RowOpKind.Softmax : RowOpKind.LogSoftmax;
            int rank = shapes[x].Length;
            if (model.Opset < 13 && !IsLastAxis(x, axis))
            {
                // the softmax runs over all axes from `axis` on, flattened
                int from = SampleAxis(node, x, axis, "axis");
                string name = UniqueName(node, node.OpType);
                int[] s = shapes[x];
                string flat = EmitNamed(node, name + "_flatten", GraphOps.Reshape, [x], [], new() { ["shape"] = [.. s[..from], GraphOps.Size(s[from..])] }, name + ".flat");
                string soft = EmitNamed(node, name, GraphOps.RowOp, [flat], [], new() { ["kind"] = [(int)kind] }, name + ".out");
                EmitNamed(node, name + "_view", GraphOps.Reshape, [soft], [], new() { ["shape"] = s }, node.Outputs[0]);
                return;
            }
            if (IsLastAxis(x, axis))
            {
                Emit(node, GraphOps.RowOp, [x], [], new() { ["kind"] = [(int)kind] });
                return;
            }
            int sampleAxis = SampleAxis(node, x, axis, "axis");
            var perm = AxesLast(rank, [sampleAxis]);
            string moved = Permute(node, x, perm, "axis_last");
            string rowName = UniqueName(node, node.OpType);
            string row = EmitNamed(node, rowName, GraphOps.RowOp, [moved], [], new() { ["kind"] = [(int)kind] }, rowName + ".out");
            Permute(node, row, Inverse(perm), "axis_back", node.Outputs[0]);
        }

        /// <summary>
        /// ReduceSum/ReduceMean/ReduceMax over any per-sample axes (attribute, or input from opset 13/18); keepdims 0 drops
        /// them. The reduced axes are moved last and flattened into one row per kept index, which one RowOp reduces.
        /// </summary>
        void ReduceNode(OnnxNode node, string x)
        {
            long[] axes = node.Inputs.Length > 1 && node.Inputs[1].Length > 0
                ? LookAheadConstant(node.Inputs[1])?.I ?? throw ModelImportException.Node(file, node, "axes must be a constant")
                : Ints(node, "axes", []);
            if (axes.Length == 0)
                throw ModelImportException.Node(file, node, "no axes given: a reduction over every axis would reduce across the batch; name the per-sample axes");
            var sampleAxes = axes.Select(a => SampleAxis(node, x, a, "axis")).Distinct().ToList();
            var kind = node.OpType switch { "ReduceSum" => RowOpKind.Sum, "ReduceMax" => RowOpKind.Max, _ => RowOpKind.Mean };
            bool keep = Int(node, "keepdims", 1) != 0;
            int[] s = shapes[x];
            int[] kept = [.. Enumerable.Range(0, s.Length).Where(a => !sampleAxes.Contains(a)).Select(a => s[a])];
            int[] keptShape = [.. Enumerable.Range(0, s.Length).Select(a => sampleAxes.Contains(a) ? 1 : s[a])];
            int[] outShape = keep ? keptShape : kept;
            string name = UniqueName(node, node.OpType);
            string rows = x;
            bool lastOnly = sampleAxes is [var only] && only == s.Length - 1;
            if (!lastOnly)
            {
                string moved = Permute(node, x, AxesLast(s.Length, sampleAxes), "axes_last");
                int width = sampleAxes.Aggregate(1, (p, a) => p * s[a]);
                rows = EmitNamed(node, name + "_rows", GraphOps.Reshape, [moved], [], new() { ["shape"] = [.. kept, width] }, name + ".rows");
            }
            // the RowOp leaves [..kept, 1]; name it the output when that is the shape asked for
            int[] rowOut = [.. shapes[rows][..^1], 1];
            if (rowOut.SequenceEqual(outShape))
            {
                EmitNamed(node, name, GraphOps.RowOp, [rows], [], new() { ["kind"] = [(int)kind] }, node.Outputs[0]);
                return;
            }
            string reduced = EmitNamed(node, name, GraphOps.RowOp, [rows], [], new() { ["kind"] = [(int)kind] }, name + ".kept");
            EmitNamed(node, name + "_view", GraphOps.Reshape, [reduced], [], new() { ["shape"] = outShape }, node.Outputs[0]);
        }

        void ReduceSumOrMaxNode(OnnxNode node) => ReduceNode(node, Dynamic(node, 0));

        /// <summary>Gather with constant indices along any per-sample axis of an activation (output: the indices' shape in place of that axis).</summary>
        void GatherFromActivation(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            var index = ConstInput(node, 1, "indices");
            if (index.I is null) throw ModelImportException.Node(file, node, "indices must be integers");
            int axis = SampleAxis(node, x, Int(node, "axis", 0), "axis");
            int[] s = shapes[x], strides = Strides(s);
            int width = s[axis];
            int[] picked = [.. index.I.Select(i => (int)(i < 0 ? i + width : i))];
            if (picked.Any(i => i < 0 || i >= width))
                throw ModelImportException.Node(file, node, $"index out of range for {width} entries along axis {axis + 1}: [{string.Join(",", index.I)}]");
            int[] indexShape = [.. index.Shape.Select(d => (int)d)];
            int[] outShape = [.. s[..axis], .. indexShape, .. s[(axis + 1)..]];
            int[] pickShape = [.. s[..axis], picked.Length, .. s[(axis + 1)..]];
            var map = IndexMap(pickShape, o =>
            {
                int flat = 0;
                for (int a = 0; a < s.Length; a++) flat += (a == axis ? picked[o[a]] : o[a]) * strides[a];
                return flat;
            });
            EmitIndexMap(node, x, map, outShape, "gather", node.Outputs[0]);
        }

        /// <summary>Slice of an activation along any per-sample axes (constant starts/ends/axes/steps).</summary>
        void SliceNode(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            long[] Input(int k, string what, long[]? fallback) =>
                k < node.Inputs.Length && node.Inputs[k].Length > 0
                    ? ConstInput(node, k, what).I ?? throw ModelImportException.Node(file, node, $"{what} must be integers")
                    : fallback ?? throw ModelImportException.Node(file, node, $"{what} is missing");
            long[] starts = Input(1, "starts", node.Attribute("starts")?.Ints), ends = Input(2, "ends", node.Attribute("ends")?.Ints);
            long[] axes = Input(3, "axes", node.Attribute("axes")?.Ints ?? [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)]);
            long[] steps = Input(4, "steps", [.. Enumerable.Repeat(1L, starts.Length)]);
            if (axes.Length != starts.Length || ends.Length != starts.Length || steps.Length != starts.Length)
                throw ModelImportException.Node(file, node, "starts, ends, axes and steps differ in length");
            int[] s = shapes[x], strides = Strides(s);
            var picks = Enumerable.Range(0, s.Length).Select(a => Enumerable.Range(0, s[a]).ToArray()).ToArray();
            for (int k = 0; k < axes.Length; k++)
            {
                int axis = SampleAxis(node, x, axes[k], "axis");
                long n = s[axis], step = steps[k];
                if (step == 0) throw ModelImportException.Node(file, node, "a step of 0");
                long Clamp(long v, long lo, long hi) => Math.Clamp(v < 0 ? v + n : v, lo, hi);
                long start = step > 0 ? Clamp(starts[k], 0, n) : Clamp(starts[k], -1, n - 1);
                long end = step > 0 ? Clamp(ends[k], 0, n) : Clamp(ends[k], -1, n - 1);
                var picked = new List<int>();
                for (long i = start; step > 0 ? i < end : i > end; i += step) picked.Add((int)i);
                if (picked.Count == 0) throw ModelImportException.Node(file, node, $"the slice along axis {axis + 1} is empty");
                picks[axis] = [.. picked];
            }
            int[] outShape = [.. picks.Select(p => p.Length)];
            var map = IndexMap(outShape, o =>
            {
                int flat = 0;
                for (int a = 0; a < s.Length; a++) flat += picks[a][o[a]] * strides[a];
                return flat;
            });
            EmitIndexMap(node, x, map, outShape, "slice", node.Outputs[0]);
        }

        /// <summary>Concat of activations along any per-sample axis: each part scattered into its place of the flattened result, the parts added.</summary>
        void ConcatActivations(OnnxNode node)
        {
            if (node.Inputs.Any(i => constants.ContainsKey(i)))
                throw ModelImportException.Node(file, node, "concatenating activations with constants is not supported (all parts must be computed, or all constant)");
            var parts = node.Inputs.Select((_, k) => Dynamic(node, k)).ToList();
            int axis = SampleAxis(node, parts[0], Int(node, "axis", 0), "axis");
            int[] first = shapes[parts[0]];
            foreach (var p in parts)
                if (shapes[p].Length != first.Length || Enumerable.Range(0, first.Length).Any(a => a != axis && shapes[p][a] != first[a]))
                    throw ModelImportException.Node(file, node, $"Concat of per-sample shapes {string.Join(", ", parts.Select(q => GraphOps.Show(shapes[q])))} " +
                        $"along axis {axis + 1}: the other axes must agree");
            int[] outShape = (int[])first.Clone();
            outShape[axis] = parts.Sum(p => shapes[p][axis]);
            int[] outStrides = Strides(outShape);
            int total = GraphOps.Size(outShape);
            string name = UniqueName(node, "Concat");
            string? sum = null;
            int offset = 0;
            for (int k = 0; k < parts.Count; k++)
            {
                int[] ps = shapes[parts[k]];
                int shift = offset;
                var map = IndexMap(ps, o =>
                {
                    int flat = 0;
                    for (int a = 0; a < ps.Length; a++) flat += (a == axis ? o[a] + shift : o[a]) * outStrides[a];
                    return flat;
                });
                offset += ps[axis];
                string flatPart = ps.Length == 1 ? parts[k]
                    : EmitNamed(node, $"{name}_flat{k}", GraphOps.Reshape, [parts[k]], [], new() { ["shape"] = [GraphOps.Size(ps)] }, $"{name}.flat{k}");
                string placed = EmitNamed(node, $"{name}_part{k}", GraphOps.Scatter, [flatPart], [],
                    new() { ["indices"] = map, ["width"] = [total] }, $"{name}.part{k}");
                sum = sum is null ? placed : EmitNamed(node, $"{name}_add{k}", GraphOps.Add, [sum, placed], [], [], $"{name}.sum{k}");
            }
            EmitNamed(node, name + "_view", GraphOps.Reshape, [sum!], [], new() { ["shape"] = outShape }, node.Outputs[0]);
        }
    }
}
