using Kiago.Kernels;

namespace Kiago.Tests.Kernels;

// The ops of attention models over element tokens: batched products of two activations, the embedding lookup, and the
// featuriser's token selection with its adjoint.
public abstract partial class BackendOpTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void BatchedGemm_forward_and_both_operand_gradients(bool ta, bool tb)
    {
        foreach (var (count, m, n, k) in new[] { (3, 4, 5, 6), (1, 1, 1, 1), (5, 8, 16, 9), (2, 3, 19, 2) })
        {
            var a = RoundToFloat(Random(count * m * k, 61));
            var b = RoundToFloat(Random(count * k * n, 62));
            using var ab = Upload(a);
            using var bb = Upload(b);
            // as a function of A (B fixed), and of B (A fixed); each gradient is itself a batched product
            CheckOp($"BatchedGemm dA {count}x{m}x{n}x{k} ta={ta} tb={tb}", a, count * m * n,
                x => ReferenceOps.BatchedGemm(count, m, n, k, x, ta, b, tb),
                (x, y) => Backend.BatchedGemm(count, m, n, k, x, ta, bb, tb, y),
                (x, y, dy, dx) =>
                {
                    // dA = dC·op(B)ᵀ, or its transpose when A is stored transposed
                    if (!ta) Backend.BatchedGemm(count, m, k, n, dy, false, bb, !tb, dx);
                    else Backend.BatchedGemm(count, k, m, n, bb, tb, dy, true, dx);
                }, tolerance: 1e-5);
            CheckOp($"BatchedGemm dB {count}x{m}x{n}x{k} ta={ta} tb={tb}", b, count * m * n,
                x => ReferenceOps.BatchedGemm(count, m, n, k, a, ta, x, tb),
                (x, y) => Backend.BatchedGemm(count, m, n, k, ab, ta, x, tb, y),
                (x, y, dy, dx) =>
                {
                    if (!tb) Backend.BatchedGemm(count, k, n, m, ab, !ta, dy, false, dx);
                    else Backend.BatchedGemm(count, n, k, m, dy, true, ab, ta, dx);
                }, tolerance: 1e-5);
        }
    }

    [Fact]
    public void BatchedGemm_overwrites_its_output_and_refuses_short_buffers()
    {
        var a = RoundToFloat(Random(2 * 3 * 4, 63));
        var b = RoundToFloat(Random(2 * 4 * 5, 64));
        using var ab = Upload(a);
        using var bb = Upload(b);
        using var cb = Upload(Random(2 * 3 * 5, 65, 100));
        Backend.BatchedGemm(2, 3, 5, 4, ab, false, bb, false, cb);
        AssertClose("BatchedGemm over old values", ReferenceOps.BatchedGemm(2, 3, 5, 4, a, false, b, false), Download(cb, 30), 1e-6);
        using var small = Backend.Allocate<float>(29);
        var e = Assert.Throws<ShapeException>(() => Backend.BatchedGemm(2, 3, 5, 4, ab, false, bb, false, small));
        AssertMentions(e, "BatchedGemm", "'c'", "30");
    }

    [Fact]
    public void GatherRows_picks_table_rows_by_rounded_float_index_and_marks_bad_indices_NaN()
    {
        const int vocabulary = 6, width = 5;
        var table = RoundToFloat(Random(vocabulary * width, 66));
        double[] index = [0, 5, 2.0000002, 3, 1.9999998, -1, 6, double.NaN, 5.4];
        using var tb = Upload(table);
        using var ib = Upload(index);
        using var yb = Backend.Allocate<float>(index.Length * width);
        Backend.GatherRows(index.Length, ib, tb, vocabulary, width, yb);
        var y = Download(yb, index.Length * width);
        int[] expectedRow = [0, 5, 2, 3, 2, -1, -1, -1, 5];
        for (int r = 0; r < index.Length; r++)
            for (int j = 0; j < width; j++)
            {
                double got = y[r * width + j];
                if (expectedRow[r] < 0) Assert.True(double.IsNaN(got), $"row {r} (index {index[r]}) should be NaN, is {got}");
                else Assert.Equal(table[expectedRow[r] * width + j], got);
            }
    }

    [Theory]
    [InlineData(6, 3)]     // fewer positive entries than slots in some rows, more in others
    [InlineData(118, 8)]   // the composition width
    public void SelectTokens_keeps_the_largest_in_column_order_and_ScatterTokens_is_its_adjoint(int columns, int tokens)
    {
        const int batch = 7;
        var rng = new Random(67);
        var x = new double[batch * columns];
        for (int b = 0; b < batch; b++)
        {
            int present = b switch { 0 => 0, 1 => 1, 2 => tokens, _ => Math.Min(columns, tokens + 1 + b) };
            foreach (int c in Enumerable.Range(0, columns).OrderBy(_ => rng.Next()).Take(present))
                x[b * columns + c] = (float)(0.05 + rng.NextDouble());
        }
        // a tie at the cut and a negative entry (not a token)
        x[4 * columns + 0] = x[4 * columns + 1] = 2.0;
        x[5 * columns + 2] = -0.5;
        var (expected, picked) = ReferenceOps.SelectTokens(batch, columns, x, tokens);
        using var xb = Upload(x);
        using var yb = Backend.Allocate<float>(batch * 2 * tokens);
        using var pb = Backend.Allocate<int>(batch * tokens);
        Backend.SelectTokens(batch, columns, xb, tokens, yb, pb);
        Assert.Equal(expected, Download(yb, batch * 2 * tokens));
        var pickedHost = new int[batch * tokens];
        Backend.Download<int>(pb, pickedHost);
        Assert.Equal(picked, pickedHost);

        // adjoint: ⟨dy, select(x)⟩ on the fraction half equals ⟨scatter(dy), x⟩; every dx entry is written
        var dy = RoundToFloat(Random(batch * 2 * tokens, 68));
        using var dyb = Upload(dy);
        using var dxb = Backend.Allocate<float>(batch * columns);
        Backend.Fill(dxb, float.NaN, batch * columns);
        Backend.ScatterTokens(batch, columns, tokens, pb, dyb, dxb);
        var dx = Download(dxb, batch * columns);
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < columns; c++)
            {
                int slot = Array.IndexOf(picked, c, b * tokens, tokens);
                double want = slot < 0 ? 0 : dy[b * 2 * tokens + tokens + (slot - b * tokens)];
                Assert.Equal(want, dx[b * columns + c]);
            }
    }
}
