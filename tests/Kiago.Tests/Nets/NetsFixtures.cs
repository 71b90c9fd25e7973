using System.Text.Json;
using Kiago.Tests.Support;

namespace Kiago.Tests.Nets;

/// <summary>
/// The committed fixtures written by training/export_fixtures.py (the shipped architectures, small) and by
/// training/export_byo_fixtures.py (models users bring, in Fixtures/byo; their ONNX names start with "byo/").
/// </summary>
internal static class NetsFixtures
{
    public static string Folder => Path.Combine(SharedData.RepoRoot, "tests", "Kiago.Tests", "Nets", "Fixtures");

    public sealed record Case(string[] Onnx, double[][] X, double[] Y, double[][] Dydx);

    static readonly Lazy<Dictionary<string, Case>> Cases = new(() =>
    {
        var all = Load(Path.Combine(Folder, "reference.json"));
        foreach (var (name, c) in Load(Path.Combine(Folder, "byo", "reference.json")))
            all[name] = c with { Onnx = [.. c.Onnx.Select(f => "byo/" + f)] };
        return all;
    });

    /// <summary>The input signature each fixture model takes.</summary>
    public static Kiago.Nets.Weights.ModelKind KindOf(string name) => name switch
    {
        "tiny_resnet" => Kiago.Nets.Weights.ModelKind.TcResNet,
        "tiny_mlp" => Kiago.Nets.Weights.ModelKind.ElemNet,
        "tokens8" => Kiago.Nets.Weights.ModelKind.Tokens,
        _ => Kiago.Nets.Weights.ModelKind.Fractions,
    };

    public static Case Get(string name) => Cases.Value[name];

    public static Dictionary<string, Case> Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var result = new Dictionary<string, Case>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateObject())
        {
            var v = c.Value;
            result[c.Name] = new Case(
                v.GetProperty("onnx").EnumerateArray().Select(e => e.GetString()!).ToArray(),
                Matrix(v.GetProperty("x")), v.GetProperty("y").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
                Matrix(v.GetProperty("dydx")));
        }
        return result;
    }

    static double[][] Matrix(JsonElement e) =>
        e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
}
