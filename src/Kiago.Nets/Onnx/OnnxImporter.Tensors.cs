// Data movement between tensors of any per-sample rank, as index maps: Transpose, broadcasting of two activations,
// Gather/Slice/Concat along any axis, and moving an axis last for Softmax and the reductions. Each is one Gather node
// over the flattened sample (backward: scatter-add, so broadcasting sums its gradient) between Reshape views, or for
// Concat one Scatter per part. Also the product of two activations (attention) and the embedding lookup.
using System.Globalization;
using Kiago.Nets.Graph;

namespace Kiago.Nets.Onnx;

public static partial class OnnxImporter
{
    sealed partial class Importer
    {
        static int[] Strides(int[] shape)
        {
            var strides = new int[shape.Length];
            int s = 1;
            for (int a = shape.Length - 1; a >= 0; a--)
            {
                strides[a] = s;
                s *= shape[a];
            }
            return strides;
        }

        /// <summary>For every element of <paramref name="outShape"/> (row-major), the flat input index <paramref name="source"/> gives for its multi-index.</summary>
        static int[] IndexMap(int[] outShape, Func<int[], int> source)
        {
            var map = new int[GraphOps.Size(outShape)];
            var index = new int[outShape.Length];
            for (int e = 0; e < map.Length; e++)
            {
                map[e] = source(index);
                for (int a = outShape.Length - 1; a >= 0; a--)
                {
                    if (++index[a] < outShape[a]) break;
                    index[a] = 0;
                }
            }
            return map;
        }

        /// <summary>output = the flattened x read at <paramref name="map"/>, viewed as <paramref name="outShape"/>.</summary>
        string EmitIndexMap(OnnxNode node, string x, int[] map, int[] outShape, string tag, string? output = null)
        {
            string name = UniqueName(node, node.OpType + "_" + tag);
            output ??= name + ".out";
            int size = GraphOps.Size(shapes[x]);
            if (map.Length == size && map.Select((v, i) => v == i).All(b => b))
            {
                // the identity: a view
                return EmitNamed(node, name, GraphOps.Reshape, [x], [], new() { ["shape"] = outShape }, output);
            }
            string flat = shapes[x].Length == 1 ? x : EmitNamed(node, name + "_flat", GraphOps.Reshape, [x], [], new() { ["shape"] = [size] }, name + ".flat");
            if (outShape.Length == 1) return EmitNamed(node, name, GraphOps.Gather, [flat], [], new() { ["indices"] = map }, output);
            string picked = EmitNamed(node, name, GraphOps.Gather, [flat], [], new() { ["indices"] = map }, name + ".picked");
            return EmitNamed(node, name + "_view", GraphOps.Reshape, [picked], [], new() { ["shape"] = outShape }, output);
        }

        /// <summary>x with its per-sample axes reordered: output axis i is input axis perm[i].</summary>
        string Permute(OnnxNode node, string x, int[] perm, string tag, string? output = null)
        {
            int[] s = shapes[x], strides = Strides(s);
            int[] outShape = [.. perm.Select(p => s[p])];
            var map = IndexMap(outShape, o =>
            {
                int flat = 0;
                for (int i = 0; i < perm.Length; i++) flat += o[i] * strides[perm[i]];
                return flat;
            });
            return EmitIndexMap(node, x, map, outShape, tag, output);
        }

        /// <summary>x repeated along its size-1 axes to <paramref name="target"/> (same rank).</summary>
        string BroadcastTo(OnnxNode node, string x, int[] target)
        {
            int[] s = shapes[x], strides = Strides(s);
            if (s.SequenceEqual(target)) return x;
            var map = IndexMap(target, o =>
            {
                int flat = 0;
                for (int a = 0; a < s.Length; a++) flat += (s[a] == 1 ? 0 : o[a]) * strides[a];
                return flat;
            });
            return EmitIndexMap(node, x, map, target, "broadcast");
        }

        /// <summary>
        /// The per-sample shape two activations broadcast to (ONNX/NumPy rules, aligned right). Both carry the batch
        /// axis first, so their per-sample ranks must agree (else the batch would meet a per-sample axis).
        /// </summary>
        int[] BroadcastShape(OnnxNode node, int[] a, int[] b)
        {
            string Problem() => $"inputs have per-sample shapes {GraphOps.Show(a)} and {GraphOps.Show(b)}, which do not broadcast";
            if (a.Length != b.Length)
            {
                // a one-value operand broadcasts whatever its rank
                if (GraphOps.Size(a) == 1 && a.Length < b.Length) return b;
                if (GraphOps.Size(b) == 1 && b.Length < a.Length) return a;
                throw ModelImportException.Node(file, node, Problem() + " (their ranks differ, so the batch axis would meet a per-sample axis)");
            }
            var shape = new int[a.Length];
            for (int i = 0; i < a.Length; i++)
            {
                if (a[i] != b[i] && a[i] != 1 && b[i] != 1) throw ModelImportException.Node(file, node, Problem());
                shape[i] = Math.Max(a[i], b[i]);
            }
            return shape;
        }

        /// <summary>Both operands of a binary op of two activations, broadcast to their common shape.</summary>
        (string A, string B) Broadcast(OnnxNode node, string a, string b)
        {
            var shape = BroadcastShape(node, shapes[a], shapes[b]);
            string Lift(string v)
            {
                if (shapes[v].Length == shape.Length) return v;
                string name = UniqueName(node, node.OpType + "_rank");
                return EmitNamed(node, name, GraphOps.Reshape, [v], [], new() { ["shape"] = [.. Enumerable.Repeat(1, shape.Length)] }, name + ".out");
            }
            return (BroadcastTo(node, Lift(a), shape), BroadcastTo(node, Lift(b), shape));
        }

        /// <summary>ONNX axis (batch = 0, negative from the end) → per-sample axis; the batch axis itself is refused.</summary>
        int SampleAxis(OnnxNode node, string x, long axis, string what)
        {
            int rank = shapes[x].Length + 1;
            long a = axis < 0 ? axis + rank : axis;
            if (a < 1 || a >= rank)
                throw ModelImportException.Node(file, node, $"{what} {axis} on per-sample shape {GraphOps.Show(shapes[x])}: " +
                    (a == 0 ? "the batch axis (0) cannot be used" : "out of range"));
            return (int)a - 1;
        }

        /// <summary>The permutation that moves per-sample <paramref name="axes"/> to the end (others keep their order).</summary>
        static int[] AxesLast(int rank, IReadOnlyCollection<int> axes) =>
            [.. Enumerable.Range(0, rank).Where(a => !axes.Contains(a)), .. axes.Order()];

        static int[] Inverse(int[] perm)
        {
            var inverse = new int[perm.Length];
            for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
            return inverse;
        }

        void TransposeNode(OnnxNode node)
        {
            if (IsConst(node, 0))
            {
                Transpose(node);
                return;
            }
            string x = Dynamic(node, 0);
            int rank = shapes[x].Length + 1;
            var perm = Ints(node, "perm", [.. Enumerable.Range(0, rank).Reverse().Select(i => (long)i)]);
            if (perm.Length != rank || perm[0] != 0 || perm.Order().Select((p, i) => p == i).Any(ok => !ok))
                throw ModelImportException.UnsupportedAttribute(file, node, "perm", "[" + string.Join(",", perm) + "]",
                    $"a permutation of the {rank} axes that keeps the batch axis 0 first");
            Permute(node, x, [.. perm.Skip(1).Select(p => (int)p - 1)], "permute", node.Outputs[0]);
        }

        /// <summary>MatMul of two activations: [.., M, K] · [.., K, N], the leading axes broadcast (a batch of products).</summary>
        void MatMulOfActivations(OnnxNode node)
        {
            string a = Dynamic(node, 0), b = Dynamic(node, 1);
            int[] sa = shapes[a], sb = shapes[b];
            if (sa.Length < 2 || sb.Length < 2 || sa.Length != sb.Length)
                throw ModelImportException.Node(file, node, $"inputs have per-sample shapes {GraphOps.Show(sa)} and {GraphOps.Show(sb)}: " +
                    "a product of two activations needs matrices per sample (rank ≥ 2) of the same rank");
            if (sa[^1] != sb[^2])
                throw ModelImportException.Node(file, node, $"inputs have per-sample shapes {GraphOps.Show(sa)} and {GraphOps.Show(sb)}: inner dimensions {sa[^1]} and {sb[^2]} differ");
            var lead = BroadcastShape(node, sa[..^2], sb[..^2]);
            a = BroadcastTo(node, a, [.. lead, sa[^2], sa[^1]]);
            b = BroadcastTo(node, b, [.. lead, sb[^2], sb[^1]]);
            Emit(node, GraphOps.MatMul, [a, b], [], []);
        }

        /// <summary>Gather from a constant 2-D table by indices computed at run time (nn.Embedding): an Embedding node.</summary>
        void EmbeddingNode(OnnxNode node)
        {
            var table = constants[node.Inputs[0]];
            string indices = Dynamic(node, 1);
            if (Int(node, "axis", 0) != 0 || table.F is null || table.Shape.Length != 2)
                throw ModelImportException.Node(file, node, $"a Gather whose indices are computed at run time must pick rows (axis 0) of a 2-D float table; " +
                    $"data has shape [{string.Join(",", table.Shape)}], axis {Int(node, "axis", 0)}");
            string name = UniqueName(node, "Embedding");
            string weight = AddTensor(name + ".table", [(int)table.Shape[0], (int)table.Shape[1]], table.F);
            EmitNamed(node, name, GraphOps.Embedding, [indices], [weight], [], node.Outputs[0]);
        }

        /// <summary>
        /// Two runtime inputs of per-sample shape [T] — element indices (integers) and fractions (float) — become one
        /// graph input <see cref="TokensInputName"/> of shape [2, T] (indices first), and each ONNX input a view of its row.
        /// </summary>
        (string Name, int[] Shape) TokenInputs(OnnxValueInfo indices, OnnxValueInfo fractions)
        {
            int Tokens(OnnxValueInfo v) => v.Shape is [_, { Value: > 0 and <= int.MaxValue } t] ? (int)t.Value!.Value
                : throw ModelImportException.Graph(file, $"input '{v.Name}' has shape [{string.Join(",", v.Shape?.Select(d => d.ToString()) ?? [])}]; " +
                    "an element-token model takes indices and fractions of shape [batch, T] with a fixed T");
            int t = Tokens(indices);
            if (Tokens(fractions) != t)
                throw ModelImportException.Graph(file, $"inputs '{indices.Name}' and '{fractions.Name}' have {t} and {Tokens(fractions)} tokens; they must agree");
            exportedBatch = fractions.Shape![0].Value ?? -1;
            shapes[TokensInputName] = [2, t];
            alias[TokensInputName] = TokensInputName;
            var origin = new OnnxNode("tokens", "Input", "", [TokensInputName], [indices.Name, fractions.Name], []);
            string flat = EmitNamed(origin, "tokens_flat", GraphOps.Reshape, [TokensInputName], [], new() { ["shape"] = [2 * t] }, "tokens.flat");
            EmitNamed(origin, "tokens_indices", GraphOps.Gather, [flat], [], new() { ["indices"] = [.. Enumerable.Range(0, t)] }, indices.Name);
            EmitNamed(origin, "tokens_fractions", GraphOps.Gather, [flat], [], new() { ["indices"] = [.. Enumerable.Range(t, t)] }, fractions.Name);
            return (TokensInputName, [2, t]);
        }
    }

    /// <summary>The graph input of an element-token model: per sample [2, T], the atomic numbers then the fractions.</summary>
    public const string TokensInputName = "tokens";
}
