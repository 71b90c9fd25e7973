using System.Text.Json;

namespace Kiago.Bench;

/// <summary>The random full-size models written by `training/export_fixtures.py --full` (training/exports, git-ignored).</summary>
internal static class NetsExports
{
    public static string Folder
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Kiago.sln"))) dir = dir.Parent;
            var root = dir?.FullName ?? Environment.CurrentDirectory;
            var folder = Path.Combine(root, "training", "exports");
            if (!File.Exists(Path.Combine(folder, "reference.json")))
                throw new FileNotFoundException($"{folder}/reference.json missing: run /usr/bin/python3 training/export_fixtures.py --full first");
            return folder;
        }
    }

    public sealed record Case(string Name, string[] Onnx, double[][] X, double[] Y, double[][] Dydx);

    public static List<Case> Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "reference.json")));
        var cases = new List<Case>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateObject())
        {
            var v = c.Value;
            double[][] M(string key) => v.GetProperty(key).EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
            cases.Add(new Case(c.Name, v.GetProperty("onnx").EnumerateArray().Select(e => e.GetString()!).ToArray(), M("x"),
                v.GetProperty("y").EnumerateArray().Select(e => e.GetDouble()).ToArray(), M("dydx")));
        }
        return cases;
    }
}
