namespace Kiago.Nets.Weights;

/// <summary>
/// A model's input signature: which featuriser turns the composition into the model's input. Stored in .kgw files by
/// name ("kind"; the first two names are those of the models that introduced them). What the model predicts is its
/// output name and unit, not its kind: any kind can fill any objective slot.
/// </summary>
public enum ModelKind
{
    /// <summary>The 4×7×32 periodic-table image (all 118 elements), as the KIAGO ResNet18 takes it.</summary>
    TcResNet,
    /// <summary>ElemNet's 86 fractions (elements outside them are dropped).</summary>
    ElemNet,
    /// <summary>The 118 atom fractions themselves (Z = 1..118, summing to 1): an MLP or any model on the raw composition.</summary>
    Fractions,
    /// <summary>
    /// A diffusion denoiser, not a predictor: per-sample input (97) = the 96 element amounts of Z 1..96 (H…Cm, not
    /// normalised, as SuperDiff's vectors) and the integer timestep t as a float; output (96) = the predicted noise ε.
    /// Used by <c>kiago baseline superdiff</c> only.
    /// </summary>
    Denoiser,
    /// <summary>
    /// Element tokens for attention models (CrabNet/Roost-style): per-sample input [2, T] = the atomic numbers (as floats,
    /// 0 for an unused slot) and the fractions of the composition's up to T largest elements, in order of Z. T comes from
    /// the model's input shape. The ONNX form has two inputs, integer indices [batch, T] and float fractions [batch, T].
    /// </summary>
    Tokens,
}

public static class ModelKinds
{
    public static string Name(ModelKind kind) => kind switch
    {
        ModelKind.TcResNet => "tc-resnet",
        ModelKind.ElemNet => "elemnet",
        ModelKind.Fractions => "fractions",
        ModelKind.Denoiser => "denoiser",
        ModelKind.Tokens => "tokens",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Every kind's name, for messages listing the choices.</summary>
    public static string AllNames => "tc-resnet (4×7×32 image), elemnet (86 fractions), fractions (118 fractions), denoiser (96 amounts + timestep), tokens (element indices + fractions, [2, T])";

    /// <summary>"a tc-resnet", "an elemnet": the name with its article, for messages.</summary>
    public static string NameWithArticle(ModelKind kind) => kind == ModelKind.ElemNet ? "an elemnet" : "a " + Name(kind);

    public static bool TryParse(string name, out ModelKind kind)
    {
        switch (name)
        {
            case "tc-resnet": kind = ModelKind.TcResNet; return true;
            case "elemnet": kind = ModelKind.ElemNet; return true;
            case "fractions": kind = ModelKind.Fractions; return true;
            case "denoiser": kind = ModelKind.Denoiser; return true;
            case "tokens": kind = ModelKind.Tokens; return true;
            default: kind = default; return false;
        }
    }

    /// <summary>The output a converted model of this kind gets when the user names none (the shipped models' quantities); none for <see cref="ModelKind.Fractions"/>.</summary>
    public static (string Name, string Unit)? DefaultOutput(ModelKind kind) => kind switch
    {
        ModelKind.TcResNet => ("tc", "K"),
        ModelKind.ElemNet => ("ef", "eV/atom"),
        ModelKind.Denoiser => ("noise", "amount"),
        _ => null,
    };
}
