// Ops over the last axis of an activation: Softmax/LogSoftmax, ReduceSum/ReduceMean/ReduceMax (one RowOp node each), and
// Gather/Slice of a vector's columns with constant indices (a Gather node: backward scatter-adds).
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
            // opset ≥ 13: axis −1 by default; before, axis 1 with the input flattened to 2-D — the same for a vector per sample
            long axis = node.Attribute("axis") is { } a ? a.I : model.Opset >= 13 ? -1 : 1;
            if (!IsLastAxis(x, axis))
                throw ModelImportException.UnsupportedAttribute(file, node, "axis", axis.ToString(CultureInfo.InvariantCulture),
                    $"the last axis ({shapes[x].Length} or -1 for per-sample shape {GraphOps.Show(shapes[x])})");
            var kind = node.OpType == "Softmax" ? RowOpKind.Softmax : RowOpKind.LogSoftmax;
            Emit(node, GraphOps.RowOp, [x], [], new() { ["kind"] = [(int)kind] });
        }

        /// <summary>ReduceSum/ReduceMean/ReduceMax over the last axis (axes as attribute, or as input from opset 13/18); keepdims 0 drops it.</summary>
        void ReduceNode(OnnxNode node, string x)
        {
            long[] axes = node.Inputs.Length > 1 && node.Inputs[1].Length > 0
                ? LookAheadConstant(node.Inputs[1])?.I ?? throw ModelImportException.Node(file, node, "axes must be a constant")
                : Ints(node, "axes", []);
            if (axes.Length != 1 || !IsLastAxis(x, axes[0]))
                throw ModelImportException.Node(file, node, $"axes [{string.Join(",", axes)}] on per-sample shape {GraphOps.Show(shapes[x])}: " +
                    $"only a reduction over the last axis ({shapes[x].Length} or -1) is supported");
            var kind = node.OpType switch { "ReduceSum" => RowOpKind.Sum, "ReduceMax" => RowOpKind.Max, _ => RowOpKind.Mean };
            bool keep = Int(node, "keepdims", 1) != 0;
            string name = UniqueName(node, node.OpType);
            if (keep)
            {
                EmitNamed(node, name, GraphOps.RowOp, [x], [], new() { ["kind"] = [(int)kind] }, node.Outputs[0]);
                return;
            }
            string reduced = EmitNamed(node, name, GraphOps.RowOp, [x], [], new() { ["kind"] = [(int)kind] }, name + ".kept");
            EmitNamed(node, name + "_squeeze", GraphOps.Reshape, [reduced], [], new() { ["shape"] = shapes[reduced][..^1] }, node.Outputs[0]);
        }

        void ReduceSumOrMaxNode(OnnxNode node) => ReduceNode(node, Dynamic(node, 0));

        /// <summary>Gather with constant indices along the last axis of a vector activation (an embedding-style pick of columns).</summary>
        void GatherFromActivation(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            var index = ConstInput(node, 1, "indices");
            long axis = Int(node, "axis", 0);
            if (shapes[x].Length != 1 || !IsLastAxis(x, axis) || index.I is null || index.Shape.Length > 1)
                throw ModelImportException.Node(file, node, $"Gather from an activation of per-sample shape {GraphOps.Show(shapes[x])}: " +
                    "only constant integer indices (a scalar or a list) along the last axis of a vector are supported");
            int width = shapes[x][0];
            int[] picked = [.. index.I.Select(i => (int)(i < 0 ? i + width : i))];
            if (picked.Any(i => i < 0 || i >= width))
                throw ModelImportException.Node(file, node, $"index out of range for {width} columns: [{string.Join(",", index.I)}]");
            EmitColumns(node, x, picked, scalar: index.Shape.Length == 0);
        }

        /// <summary>Slice of a vector activation along its last axis (constant starts/ends/axes/steps).</summary>
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
            if (shapes[x].Length != 1 || axes.Length != 1 || !IsLastAxis(x, axes[0]) || steps[0] == 0)
                throw ModelImportException.Node(file, node, $"Slice of per-sample shape {GraphOps.Show(shapes[x])} along axes [{string.Join(",", axes)}]: " +
                    "only a slice along the last axis of a vector is supported");
            long n = shapes[x][0], step = steps[0];
            long Clamp(long v, long lo, long hi) => Math.Clamp(v < 0 ? v + n : v, lo, hi);
            long start = step > 0 ? Clamp(starts[0], 0, n) : Clamp(starts[0], -1, n - 1);
            long end = step > 0 ? Clamp(ends[0], 0, n) : Clamp(ends[0], -1, n - 1);
            var picked = new List<int>();
            for (long i = start; step > 0 ? i < end : i > end; i += step) picked.Add((int)i);
            if (picked.Count == 0) throw ModelImportException.Node(file, node, "the slice is empty");
            EmitColumns(node, x, [.. picked], scalar: false);
        }

        /// <summary>Concat of vector activations along the last axis: each part scattered into its columns, the parts added.</summary>
        void ConcatActivations(OnnxNode node)
        {
            if (node.Inputs.Any(i => constants.ContainsKey(i)))
                throw ModelImportException.Node(file, node, "concatenating activations with constants is not supported (all parts must be computed, or all constant)");
            var parts = node.Inputs.Select((_, k) => Dynamic(node, k)).ToList();
            long axis = Int(node, "axis", 0);
            if (parts.Any(p => shapes[p].Length != 1) || !IsLastAxis(parts[0], axis))
                throw ModelImportException.Node(file, node, $"Concat of per-sample shapes {string.Join(", ", parts.Select(p => GraphOps.Show(shapes[p])))} " +
                    $"along axis {axis}: only vectors along their last axis are supported");
            int width = parts.Sum(p => shapes[p][0]);
            string name = UniqueName(node, "Concat");
            string? sum = null;
            int offset = 0;
            for (int k = 0; k < parts.Count; k++)
            {
                int w = shapes[parts[k]][0];
                bool last = k == parts.Count - 1;
                string placed = EmitNamed(node, $"{name}_part{k}", GraphOps.Scatter, [parts[k]], [],
                    new() { ["indices"] = [.. Enumerable.Range(offset, w)], ["width"] = [width] },
                    parts.Count == 1 ? node.Outputs[0] : $"{name}.part{k}");
                offset += w;
                sum = sum is null ? placed : EmitNamed(node, $"{name}_add{k}", GraphOps.Add, [sum, placed], [], [], last ? node.Outputs[0] : $"{name}.sum{k}");
            }
        }

        void EmitColumns(OnnxNode node, string x, int[] picked, bool scalar)
        {
            string name = UniqueName(node, node.OpType);
            if (!scalar)
            {
                EmitNamed(node, name, GraphOps.Gather, [x], [], new() { ["indices"] = picked }, node.Outputs[0]);
                return;
            }
            string column = EmitNamed(node, name, GraphOps.Gather, [x], [], new() { ["indices"] = picked }, name + ".column");
            EmitNamed(node, name + "_squeeze", GraphOps.Reshape, [column], [], new() { ["shape"] = [] }, node.Outputs[0]);
        }
    }
}
