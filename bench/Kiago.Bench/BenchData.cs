namespace Kiago.Bench;

/// <summary>Finds ../shared beside the checkout (KIAGO_SHARED overrides), as the tests do.</summary>
internal static class BenchData
{
    public static string SharedPath(params string[] parts)
    {
        var env = Environment.GetEnvironmentVariable("KIAGO_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return Path.Combine([env, .. parts]);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Kiago.sln")))
                return Path.Combine([dir.FullName, "..", "shared", .. parts]);
        throw new DirectoryNotFoundException("Kiago.sln not found above the benchmark; set KIAGO_SHARED");
    }
}
