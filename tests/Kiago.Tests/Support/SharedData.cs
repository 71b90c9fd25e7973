namespace Kiago.Tests.Support;

/// <summary>
/// Locates ../shared (read-only data beside the checkout; CI has it too). Tests read it in place: nothing from it
/// is copied into the project. KIAGO_SHARED overrides the location (e.g. for git worktrees).
/// </summary>
public static class SharedData
{
    static readonly Lazy<string> RootPath = new(Locate);

    public static string Root => RootPath.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Kiago.sln")))
                dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException($"Kiago.sln not found above {AppContext.BaseDirectory}");
        }
    }

    static string Locate()
    {
        var env = Environment.GetEnvironmentVariable("KIAGO_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoRoot, "..", "shared"));
        if (Directory.Exists(candidate)) return candidate;
        throw new DirectoryNotFoundException(
            $"../shared not found (looked at {candidate}); set KIAGO_SHARED to the shared data folder");
    }
}
