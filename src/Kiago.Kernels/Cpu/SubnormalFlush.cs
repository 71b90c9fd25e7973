using System.Runtime.InteropServices;

namespace Kiago.Kernels.Cpu;

/// <summary>
/// Turns on flush-to-zero and denormals-are-zero (MXCSR bits FTZ and DAZ) for the threads that run the SIMD CPU
/// kernels. Trained weights hold values far below float32's normal range (weight decay leaves dead units at
/// 1e-30…1e-45), and their products with activations are subnormal; without these bits every such multiply takes a
/// microcode assist on Intel cores, which made a GEMM with 1 % such weights ~30× slower (docs/BENCHMARKS.md,
/// "Subnormals"). Flushed, a subnormal operand or result is zero: a change below 2^-126 in absolute terms.
/// </summary>
/// <remarks>
/// .NET has no MXCSR intrinsic, so the bits are set through the C library's fegetenv/fesetenv, whose x86-64 fenv_t
/// ends with the MXCSR word (glibc and musl); the first setting is checked by reading the bits back. On other
/// platforms, or where the library does not behave so, nothing changes (<see cref="Supported"/> is false) and the
/// kernels compute with subnormals as before. The bits are set only while a kernel's parallel loop runs (on each
/// worker, and on the caller for inline loops) and put back after it, so host code keeps IEEE arithmetic, and the
/// result does not depend on the thread count.
/// </remarks>
internal static unsafe class SubnormalFlush
{
    const uint FlushToZero = 1u << 15, DenormalsAreZero = 1u << 6, Both = FlushToZero | DenormalsAreZero;
    const int MxcsrOffset = 28, FenvBytes = 64;

    static readonly delegate* unmanaged<byte*, int> GetEnv;
    static readonly delegate* unmanaged<byte*, int> SetEnv;

    /// <summary>Whether this process can flush subnormals in its kernels (x86-64 Linux with a C library that sets MXCSR).</summary>
    public static bool Supported { get; private set; }

    static SubnormalFlush()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64 || !OperatingSystem.IsLinux()) return;
        foreach (var name in new[] { "libm.so.6", "libc.musl-x86_64.so.1", "libm.so" })
        {
            if (!NativeLibrary.TryLoad(name, out var library)) continue;
            if (NativeLibrary.TryGetExport(library, "fegetenv", out var get) && NativeLibrary.TryGetExport(library, "fesetenv", out var set))
            {
                GetEnv = (delegate* unmanaged<byte*, int>)get;
                SetEnv = (delegate* unmanaged<byte*, int>)set;
                Supported = true;
                return;
            }
        }
    }

    /// <summary>
    /// Sets FTZ and DAZ on the calling thread for a stretch of kernel work; true when it changed them, and then
    /// <see cref="Exit"/> must put them back (host code on the same thread, e.g. float.IsSubnormal, which compares
    /// floats, must keep IEEE semantics).
    /// </summary>
    public static bool Enter()
    {
        if (!Supported) return false;
        byte* env = stackalloc byte[FenvBytes];
        if (GetEnv(env) != 0) return false;
        uint* mxcsr = (uint*)(env + MxcsrOffset);
        if ((*mxcsr & Both) == Both) return false;
        *mxcsr |= Both;
        if (SetEnv(env) != 0 || !IsOnHere())
        {
            Supported = false; // a C library that does not load MXCSR from fenv_t: leave the kernels as they were
            return false;
        }
        return true;
    }

    /// <summary>Clears FTZ and DAZ again when <paramref name="changed"/> (the result of the matching <see cref="Enter"/>).</summary>
    public static void Exit(bool changed)
    {
        if (!changed) return;
        byte* env = stackalloc byte[FenvBytes];
        if (GetEnv(env) != 0) return;
        *(uint*)(env + MxcsrOffset) &= ~Both;
        SetEnv(env);
    }

    /// <summary>Whether FTZ and DAZ are both set on the calling thread now.</summary>
    public static bool IsOnHere()
    {
        if (GetEnv == null) return false;
        byte* env = stackalloc byte[FenvBytes];
        if (GetEnv(env) != 0) return false;
        uint mxcsr = *(uint*)(env + MxcsrOffset);
        return (mxcsr & Both) == Both;
    }
}
