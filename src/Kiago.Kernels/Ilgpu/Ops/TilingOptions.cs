namespace Kiago.Kernels.Ilgpu.Ops;

/// <summary>
/// Tuning of the tiled GEMM and convolution kernels (environment variables KIAGO_ILGPU_TILE, KIAGO_ILGPU_TILE_K,
/// KIAGO_ILGPU_PREFETCH and KIAGO_ILGPU_VEC4, read once per process; <see cref="Default"/> when none is set). Each thread always keeps an
/// 8×8 block of C; the caps bound the C tile a group owns (8 × threads per side), so a smaller cap means smaller
/// groups and more of them. <see cref="IlgpuGemm.GroupShape(int, int, int, int, TilingOptions)"/> may still shrink a
/// tile below its cap for small M or N, exactly as with the default caps.
/// </summary>
/// <param name="MaxTileRows">Largest C tile height (rows of C; channels for a convolution): 8..128, a power of two.</param>
/// <param name="MaxTileCols">Largest C tile width (columns of C; pixels for a convolution): 8..128, a power of two.</param>
/// <param name="TileK">K depth of one shared-memory stage: 16 (default) or 8.</param>
/// <param name="Prefetch">Read the next K stage into registers while multiplying the current one (when one chunk of 16 loads per thread holds a stage).</param>
/// <param name="Vector">Vector layout: each thread's rows and columns are two runs of 4, read from shared memory as float4 (4 shared loads per 64 multiply-adds instead of 16).</param>
public readonly record struct TilingOptions(int MaxTileRows, int MaxTileCols, int TileK, bool Prefetch, bool Vector = false)
{
    /// <summary>
    /// What an unset (or empty) variable means: 128×128 caps, K 16 deep, no prefetch, scalar shared reads (the kernels
    /// as they were before these options existed). To make a tuned variant the default, change this line only.
    /// </summary>
    public static readonly TilingOptions Default = new(TiledGemm.MaxTile, TiledGemm.MaxTile, TiledGemm.MaxTileK, false);

    public const string TileEnvironmentVariable = "KIAGO_ILGPU_TILE";
    public const string TileKEnvironmentVariable = "KIAGO_ILGPU_TILE_K";
    public const string PrefetchEnvironmentVariable = "KIAGO_ILGPU_PREFETCH";
    public const string VectorEnvironmentVariable = "KIAGO_ILGPU_VEC4";

    /// <summary>Variant index 0..7 (+1: K 8, +2: prefetch, +4: vector layout): which compiled kernel runs.</summary>
    internal int Variant => (TileK == 8 ? 1 : 0) + (Prefetch ? 2 : 0) + (Vector ? 4 : 0);

    /// <summary>The marker types of this variant: the type arguments of the tiled kernels (depth, prefetch, shared reads).</summary>
    internal Type[] KernelTypeArguments =>
        [TileK == 8 ? typeof(K8) : typeof(K16), Prefetch ? typeof(Prefetch) : typeof(NoPrefetch), Vector ? typeof(Float4Reads) : typeof(ScalarReads)];

    /// <summary>The type arguments of every variant (what <see cref="IlgpuKernelRegistry"/> compiles for a tiled kernel).</summary>
    internal static IEnumerable<Type[]> KernelVariants =>
        from depth in new[] { "16", "8" }
        from prefetch in new[] { "0", "1" }
        from vector in new[] { "0", "1" }
        select Parse(null, depth, prefetch, vector).KernelTypeArguments;

    /// <summary>This variant of the generic tiled kernel <paramref name="type"/>.<paramref name="method"/>, as a delegate to load.</summary>
    internal TDelegate Kernel<TDelegate>(Type type, string method) where TDelegate : Delegate =>
        type.GetMethod(method, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(KernelTypeArguments).CreateDelegate<TDelegate>();

    /// <summary>"tile 128x128 (max), k 16, prefetch off": for `kiago check-device` and `kiago bench` headers.</summary>
    public override string ToString() => $"tile {MaxTileRows}x{MaxTileCols} (max), k {TileK}, prefetch {(Prefetch ? "on" : "off")}, vec4 {(Vector ? "on" : "off")}";

    /// <summary>The options the four environment variables give (unset or empty: the default of each).</summary>
    public static TilingOptions FromEnvironment() => Parse(
        Environment.GetEnvironmentVariable(TileEnvironmentVariable),
        Environment.GetEnvironmentVariable(TileKEnvironmentVariable),
        Environment.GetEnvironmentVariable(PrefetchEnvironmentVariable),
        Environment.GetEnvironmentVariable(VectorEnvironmentVariable));

    /// <summary>Parses the four values; a value it does not know throws <see cref="EnvironmentVariableException"/> naming the variable, the value and the choices.</summary>
    public static TilingOptions Parse(string? tile, string? tileK, string? prefetch, string? vector = null)
    {
        var (rows, cols) = ParseTile(tile);
        int depth = tileK?.Trim() switch
        {
            null or "" => Default.TileK,
            "16" => 16,
            "8" => 8,
            _ => throw new EnvironmentVariableException($"environment variable {TileKEnvironmentVariable}='{tileK}' is not one of: 16, 8"),
        };
        bool fetch = ParseSwitch(PrefetchEnvironmentVariable, prefetch, Default.Prefetch);
        bool vec4 = ParseSwitch(VectorEnvironmentVariable, vector, Default.Vector);
        return new TilingOptions(rows, cols, depth, fetch, vec4);
    }

    /// <summary>An on/off variable: 0/off, 1/on, unset or empty = <paramref name="fallback"/>.</summary>
    static bool ParseSwitch(string variable, string? value, bool fallback) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" => fallback,
        "0" or "off" => false,
        "1" or "on" => true,
        _ => throw new EnvironmentVariableException($"environment variable {variable}='{value}' is not one of: 0, 1"),
    };

    static (int Rows, int Cols) ParseTile(string? value)
    {
        string text = value?.Trim().ToLowerInvariant() ?? "";
        if (text is "") return (Default.MaxTileRows, Default.MaxTileCols);
        if (text is "auto") return (TiledGemm.MaxTile, TiledGemm.MaxTile);
        var parts = text.Split('x');
        if (parts.Length == 2 && Side(parts[0]) is int rows && Side(parts[1]) is int cols) return (rows, cols);
        throw new EnvironmentVariableException(
            $"environment variable {TileEnvironmentVariable}='{value}' is not one of: auto, RxC with R and C in 8, 16, 32, 64, 128 (largest C tile, e.g. 128x64)");
    }

    static int? Side(string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v)
        && v is 8 or 16 or 32 or 64 or 128 ? v : null;
}
