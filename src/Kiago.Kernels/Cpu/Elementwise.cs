using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiago.Kernels.Cpu;

// Element-wise ops (ReLU and Sigmoid with their backwards, Unary, Add, Multiply, Axpy, Scale); the ILGPU side is Ilgpu/Ops/Elementwise.cs.
public sealed partial class CpuBackend
{
    public void Relu(DeviceBuffer<float> x, DeviceBuffer<float> y, long count)
    {
        Elementwise2("Relu", x, "x", y, "y", count, out var xa, out var ya);
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Vector256.IsHardwareAccelerated && Simd)
                for (; i + 8 <= e; i += 8)
                    Vector256.Max(Vector256.Create(xa, i), Vector256<float>.Zero).CopyTo(ya, i);
            for (; i < e; i++) ya[i] = xa[i] > 0f ? xa[i] : 0f;
        });
    }

    public void Sigmoid(DeviceBuffer<float> x, DeviceBuffer<float> y, long count)
    {
        Elementwise2("Sigmoid", x, "x", y, "y", count, out var xa, out var ya);
        // PolynomialExp: the same bits in the 8-lane and scalar forms, so results do not depend on the SIMD path
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Vector256.IsHardwareAccelerated && Simd)
                for (; i + 8 <= e; i += 8)
                    (Vector256<float>.One / (Vector256<float>.One + PolynomialExp.Exp(-Vector256.Create(xa, i)))).CopyTo(ya, i);
            for (; i < e; i++) ya[i] = 1f / (1f + PolynomialExp.Exp(-xa[i]));
        });
    }

    public void SigmoidBackward(DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count)
    {
        const string op = "SigmoidBackward";
        Elementwise2(op, y, "y", dy, "dy", count, out var ya, out var dya);
        ShapeException.RequireLength(op, "dx", dx, count);
        var dxa = Own(dx, op, "dx").Array;
        ParallelRange(count, (s, e) =>
        {
            for (int i = s; i < e; i++) dxa[i] = dya[i] * ya[i] * (1f - ya[i]);
        });
    }

    public void Unary(UnarySpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, long count)
    {
        Elementwise2("Unary " + spec.Kind, x, "x", y, "y", count, out var xa, out var ya);
        var (kind, alpha, min, max) = (spec.Kind, spec.Alpha, spec.Min, spec.Max);
        if (kind == UnaryKind.Silu)
        {
            Silu(xa, ya, count);
            return;
        }
        if (kind == UnaryKind.Affine)
        {
            Affine(xa, ya, count, alpha, min);
            return;
        }
        if (kind == UnaryKind.Gelu)
        {
            // the bits of Affine(α), Erf, Affine(1, 1), Multiply, Affine(½) run one after another
            ParallelRange(count, (s, e) =>
            {
                int i = s;
                if (Vector256.IsHardwareAccelerated && Simd)
                {
                    Vector256<float> a = Vector256.Create(alpha), one = Vector256<float>.One, half = Vector256.Create(0.5f);
                    for (; i + 8 <= e; i += 8)
                    {
                        var v = Vector256.Create(xa, i);
                        (half * (v * (PolynomialErf.Erf(a * v + Vector256<float>.Zero) + one)) + Vector256<float>.Zero).CopyTo(ya, i);
                    }
                }
                for (; i < e; i++) ya[i] = 0.5f * (xa[i] * (PolynomialErf.Erf(alpha * xa[i] + 0f) + 1f)) + 0f;
            });
            return;
        }
        if (kind == UnaryKind.Erf)
        {
            ParallelRange(count, (s, e) =>
            {
                int i = s;
                if (Vector256.IsHardwareAccelerated && Simd)
                    for (; i + 8 <= e; i += 8) PolynomialErf.Erf(Vector256.Create(xa, i)).CopyTo(ya, i);
                for (; i < e; i++) ya[i] = PolynomialErf.Erf(xa[i]);
            });
            return;
        }
        ParallelRange(count, (s, e) =>
        {
            for (int i = s; i < e; i++) ya[i] = UnarySpec.Forward(kind, xa[i], alpha, min, max);
        });
    }

    /// <summary>scale·x + shift, rounded after the product as the scalar definition is.</summary>
    void Affine(float[] xa, float[] ya, long count, float scale, float shift) =>
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Vector256.IsHardwareAccelerated && Simd)
            {
                Vector256<float> vs = Vector256.Create(scale), vb = Vector256.Create(shift);
                for (; i + 8 <= e; i += 8) (Vector256.Create(xa, i) * vs + vb).CopyTo(ya, i);
            }
            for (; i < e; i++) ya[i] = scale * xa[i] + shift;
        });

    /// <summary>x·σ(x) with σ exactly as <see cref="Sigmoid"/> computes it, so the fused SiLU has the bits of Sigmoid then Multiply.</summary>
    void Silu(float[] xa, float[] ya, long count) =>
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Vector256.IsHardwareAccelerated && Simd)
                for (; i + 8 <= e; i += 8)
                {
                    var v = Vector256.Create(xa, i);
                    (v * (Vector256<float>.One / (Vector256<float>.One + PolynomialExp.Exp(-v)))).CopyTo(ya, i);
                }
            for (; i < e; i++) ya[i] = xa[i] * (1f / (1f + PolynomialExp.Exp(-xa[i])));
        });

    public void UnaryBackward(UnarySpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count)
    {
        string op = "UnaryBackward " + spec.Kind;
        Elementwise2(op, x, "x", y, "y", count, out var xa, out var ya);
        ShapeException.RequireLength(op, "dy", dy, count);
        ShapeException.RequireLength(op, "dx", dx, count);
        var dya = Own(dy, op, "dy").Array;
        var dxa = Own(dx, op, "dx").Array;
        var (kind, alpha, min, max) = (spec.Kind, spec.Alpha, spec.Min, spec.Max);
        ParallelRange(count, (s, e) =>
        {
            // the vector forms evaluate the scalar expressions in the same order (no fused multiply-add), so SIMD on or off
            // gives the same bits
            if (kind == UnaryKind.Silu)
            {
                int i = s;
                if (Vector256.IsHardwareAccelerated && Simd)
                {
                    Vector256<float> one = Vector256<float>.One;
                    for (; i + 8 <= e; i += 8)
                    {
                        var v = Vector256.Create(xa, i);
                        var sigmoid = one / (one + PolynomialExp.Exp(-v));
                        (Vector256.Create(dya, i) * (sigmoid * (one + v * (one - sigmoid)))).CopyTo(dxa, i);
                    }
                }
                for (; i < e; i++) dxa[i] = dya[i] * UnarySpec.SiluDerivative(xa[i], 1f / (1f + PolynomialExp.Exp(-xa[i])));
            }
            else if (kind == UnaryKind.Gelu)
            {
                int i = s;
                if (Vector256.IsHardwareAccelerated && Simd)
                {
                    Vector256<float> a = Vector256.Create(alpha), one = Vector256<float>.One, half = Vector256.Create(0.5f),
                        twoOverSqrtPi = Vector256.Create(UnarySpec.TwoOverSqrtPi);
                    for (; i + 8 <= e; i += 8)
                    {
                        var v = Vector256.Create(xa, i);
                        var u = a * v;
                        var derivative = half * (PolynomialErf.Erf(u) + one) + half * v * a * twoOverSqrtPi * PolynomialExp.Exp(-u * u);
                        (Vector256.Create(dya, i) * derivative).CopyTo(dxa, i);
                    }
                }
                for (; i < e; i++)
                {
                    float u = alpha * xa[i];
                    dxa[i] = dya[i] * UnarySpec.GeluDerivative(xa[i], alpha, PolynomialErf.Erf(u), PolynomialExp.Exp(-u * u));
                }
            }
            else if (kind == UnaryKind.Erf)
            {
                int i = s;
                if (Vector256.IsHardwareAccelerated && Simd)
                    for (; i + 8 <= e; i += 8) (Vector256.Create(dya, i) * PolynomialErf.Derivative(Vector256.Create(xa, i))).CopyTo(dxa, i);
                for (; i < e; i++) dxa[i] = dya[i] * PolynomialErf.Derivative(xa[i]);
            }
            else
                for (int i = s; i < e; i++) dxa[i] = dya[i] * UnarySpec.Derivative(kind, xa[i], ya[i], alpha, min, max);
        });
    }

    public void ReluBackward(DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count)
    {
        const string op = "ReluBackward";
        Elementwise2(op, y, "y", dy, "dy", count, out var ya, out var dya);
        ShapeException.RequireLength(op, "dx", dx, count);
        var dxa = Own(dx, op, "dx").Array;
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Simd)
                for (; i + 8 <= e; i += 8)
                {
                    var mask = Vector256.GreaterThan(Vector256.Create(ya, i), Vector256<float>.Zero);
                    (Vector256.Create(dya, i) & mask).CopyTo(dxa, i);
                }
            for (; i < e; i++) dxa[i] = ya[i] > 0f ? dya[i] : 0f;
        });
    }

    public void Multiply(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, long count)
    {
        Elementwise2("Multiply", a, "a", b, "b", count, out var aa, out var ba);
        ShapeException.RequireLength("Multiply", "y", y, count);
        var ya = Own(y, "Multiply", "y").Array;
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Simd)
                for (; i + 8 <= e; i += 8)
                    (Vector256.Create(aa, i) * Vector256.Create(ba, i)).CopyTo(ya, i);
            for (; i < e; i++) ya[i] = aa[i] * ba[i];
        });
    }

    public void Add(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, long count)
    {
        Elementwise2("Add", a, "a", b, "b", count, out var aa, out var ba);
        ShapeException.RequireLength("Add", "y", y, count);
        var ya = Own(y, "Add", "y").Array;
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Simd)
                for (; i + 8 <= e; i += 8)
                    (Vector256.Create(aa, i) + Vector256.Create(ba, i)).CopyTo(ya, i);
            for (; i < e; i++) ya[i] = aa[i] + ba[i];
        });
    }

    public void Axpy(float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, long count)
    {
        Elementwise2("Axpy", x, "x", y, "y", count, out var xa, out var ya);
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Simd)
            {
                var va = Vector256.Create(alpha);
                for (; i + 8 <= e; i += 8)
                    Fma.MultiplyAdd(va, Vector256.Create(xa, i), Vector256.Create(ya, i)).CopyTo(ya, i);
            }
            for (; i < e; i++) ya[i] += alpha * xa[i];
        });
    }

    public void Scale(DeviceBuffer<float> x, float alpha, long count)
    {
        RequireCount("Scale", count);
        ShapeException.RequireLength("Scale", "x", x, count);
        var xa = Own(x, "Scale", "x").Array;
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Simd)
            {
                var va = Vector256.Create(alpha);
                for (; i + 8 <= e; i += 8) (Vector256.Create(xa, i) * va).CopyTo(xa, i);
            }
            for (; i < e; i++) xa[i] *= alpha;
        });
    }

    void Elementwise2(string op, DeviceBuffer<float> a, string aName, DeviceBuffer<float> b, string bName, long count,
        out float[] aa, out float[] ba)
    {
        RequireCount(op, count);
        ShapeException.RequireLength(op, aName, a, count);
        ShapeException.RequireLength(op, bName, b, count);
        aa = Own(a, op, aName).Array;
        ba = Own(b, op, bName).Array;
    }
}
