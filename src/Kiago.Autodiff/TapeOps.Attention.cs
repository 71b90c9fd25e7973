using Kiago.Kernels;

namespace Kiago.Autodiff;

// Ops of attention models over element tokens: the product of two activations, the embedding lookup, and the
// featuriser's token selection.
public sealed partial class Tape
{
    /// <summary>
    /// y = a·b over the last two axes, every leading axis (the batch included) a batch of products: a [.., M, K],
    /// b [.., K, N] → [.., M, N]. da = dy·bᵀ and db = aᵀ·dy, from the kept inputs.
    /// </summary>
    public Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.Shape.Length < 3 || a.Shape.Length != b.Shape.Length || !a.Shape.AsSpan(0, a.Shape.Length - 2).SequenceEqual(b.Shape.AsSpan(0, b.Shape.Length - 2))
            || a.Shape[^1] != b.Shape[^2])
            throw new ShapeException($"MatMul: shapes {a.ShapeText} and {b.ShapeText} do not multiply ([.., M, K] · [.., K, N], the same leading axes)");
        int m = a.Shape[^2], k = a.Shape[^1], n = b.Shape[^1];
        long items = 1;
        for (int d = 0; d < a.Shape.Length - 2; d++) items *= a.Shape[d];
        int count = checked((int)items);
        int[] shape = [.. a.Shape[..^1], n];
        var y = NewTensor(shape, a.RequiresGrad || b.RequiresGrad);
        Backend.BatchedGemm(count, m, n, k, a.Buffer, false, b.Buffer, false, y.Buffer);
        if (y.RequiresGrad)
        {
            a.Storage.KeepForBackward = true;
            b.Storage.KeepForBackward = true;
            Record(y, dy =>
            {
                if (a.RequiresGrad)
                {
                    var da = RentFloat(a.Length);
                    Backend.BatchedGemm(count, m, k, n, dy, false, b.Buffer, true, da);
                    PushOwned(a, da);
                }
                if (b.RequiresGrad)
                {
                    var db = RentFloat(b.Length);
                    Backend.BatchedGemm(count, k, n, m, a.Buffer, true, dy, false, db);
                    PushOwned(b, db);
                }
            });
        }
        AfterOp("MatMul", a, b);
        return y;
    }

    /// <summary>
    /// Rows of a frozen table [vocabulary, width] picked by the (float) indices in x: [N, ..] → [N, .., width]. The
    /// indices are data, not a differentiable input: nothing flows back to x.
    /// </summary>
    public Tensor Embedding(Tensor x, DeviceBuffer<float> table, int vocabulary, int width)
    {
        var y = NewTensor([.. x.Shape, width], requiresGrad: false);
        Backend.GatherRows(checked((int)x.Length), x.Buffer, table, vocabulary, width, y.Buffer);
        AfterOp("Embedding", x);
        return y;
    }

    /// <summary>
    /// Element tokens of compositions x [N, C] (column c = atomic number c + 1): y [N, 2, tokens] = the atomic numbers
    /// and fractions of the up to <paramref name="tokens"/> largest positive entries (<see cref="IBackend.SelectTokens"/>).
    /// The fractions' gradient goes back to the picked columns; the atomic numbers carry none.
    /// </summary>
    public Tensor Tokens(Tensor x, int tokens)
    {
        if (x.Shape.Length != 2) throw new ShapeException($"Tokens: input has shape {x.ShapeText}, expected [N, C]");
        if (tokens < 1) throw new ShapeException($"Tokens: {tokens} tokens, expected at least 1");
        int batch = x.Batch, columns = x.Shape[1];
        var y = NewTensor([batch, 2, tokens], x.RequiresGrad);
        var picked = RentInt((long)batch * tokens);
        Backend.SelectTokens(batch, columns, x.Buffer, tokens, y.Buffer, picked);
        if (y.RequiresGrad)
            Record(y, dy =>
            {
                var dx = RentFloat(x.Length);
                Backend.ScatterTokens(batch, columns, tokens, picked, dy, dx);
                PushOwned(x, dx);
            });
        AfterOp("Tokens", x);
        return y;
    }
}
