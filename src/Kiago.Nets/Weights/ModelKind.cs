namespace Kiago.Nets.Weights;

/// <summary>What a model predicts and which featuriser feeds it. Stored in .kgw files by name.</summary>
public enum ModelKind
{
    /// <summary>Tc predictor on the 4×7×32 periodic-table image (all 118 elements); output "tc" in K.</summary>
    TcResNet,
    /// <summary>Formation-energy predictor on ElemNet's 86 fractions; output "ef" in eV/atom.</summary>
    ElemNet,
}

public static class ModelKinds
{
    public static string Name(ModelKind kind) => kind switch
    {
        ModelKind.TcResNet => "tc-resnet",
        ModelKind.ElemNet => "elemnet",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>"a tc-resnet", "an elemnet": the name with its article, for messages.</summary>
    public static string NameWithArticle(ModelKind kind) => kind == ModelKind.ElemNet ? "an elemnet" : "a " + Name(kind);

    public static bool TryParse(string name, out ModelKind kind)
    {
        switch (name)
        {
            case "tc-resnet": kind = ModelKind.TcResNet; return true;
            case "elemnet": kind = ModelKind.ElemNet; return true;
            default: kind = default; return false;
        }
    }

    public static (string Name, string Unit) DefaultOutput(ModelKind kind) => kind switch
    {
        ModelKind.TcResNet => ("tc", "K"),
        ModelKind.ElemNet => ("ef", "eV/atom"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
