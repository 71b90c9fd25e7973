using System.Globalization;
using System.Text.Json.Nodes;

namespace Kiago.Nets.Diffusion;

/// <summary>
/// How a denoiser was trained, read from its card's "diffusion" object: the number of timesteps, the noise schedule
/// (only improved-diffusion's cosine schedule, SuperDiff's choice) and what the network predicts (only ε).
/// </summary>
public sealed record DiffusionSettings(int Timesteps, string Schedule, double CosineOffset, double MaxBeta, string Prediction)
{
    /// <summary>Reads and checks the card's "diffusion" entry; the message names the field that is missing or wrong.</summary>
    public static DiffusionSettings FromCard(string cardJson, string file)
    {
        if (JsonNode.Parse(cardJson) is not JsonObject card || card["diffusion"] is not JsonObject d)
            throw new Weights.WeightFileException(file, "the model card has no \"diffusion\" object (timesteps, schedule, cosine_s, max_beta, prediction): " +
                "a denoiser's card must say how it was trained");
        int timesteps = Int(d, "timesteps", file);
        if (timesteps is < 2 or > 100_000) throw new Weights.WeightFileException(file, $"diffusion.timesteps = {timesteps}: expected 2..100000");
        string schedule = Text(d, "schedule", file);
        if (schedule != "cosine") throw new Weights.WeightFileException(file, $"diffusion.schedule = \"{schedule}\": only \"cosine\" (improved-diffusion's) is supported");
        string prediction = Text(d, "prediction", file);
        if (prediction != "epsilon") throw new Weights.WeightFileException(file, $"diffusion.prediction = \"{prediction}\": only \"epsilon\" is supported");
        double s = Number(d, "cosine_s", file), maxBeta = Number(d, "max_beta", file);
        if (s is <= 0 or >= 1) throw new Weights.WeightFileException(file, $"diffusion.cosine_s = {s.ToString(CultureInfo.InvariantCulture)}: expected 0 < s < 1");
        if (maxBeta is <= 0 or >= 1) throw new Weights.WeightFileException(file, $"diffusion.max_beta = {maxBeta.ToString(CultureInfo.InvariantCulture)}: expected 0 < max_beta < 1");
        return new DiffusionSettings(timesteps, schedule, s, maxBeta, prediction);
    }

    static JsonNode Field(JsonObject d, string name, string file) =>
        d[name] ?? throw new Weights.WeightFileException(file, $"the card's \"diffusion\" object lacks \"{name}\"");

    static int Int(JsonObject d, string name, string file) =>
        Field(d, name, file) is JsonValue v && v.TryGetValue(out int i) ? i
            : throw new Weights.WeightFileException(file, $"diffusion.{name} is not an integer");

    static double Number(JsonObject d, string name, string file) =>
        Field(d, name, file) is JsonValue v && v.TryGetValue(out double x) && double.IsFinite(x) ? x
            : throw new Weights.WeightFileException(file, $"diffusion.{name} is not a number");

    static string Text(JsonObject d, string name, string file) =>
        Field(d, name, file) is JsonValue v && v.TryGetValue(out string? t) ? t
            : throw new Weights.WeightFileException(file, $"diffusion.{name} is not a string");
}
