using System.CommandLine;
using Kiago.Kernels;
using Kiago.Nets;
using Kiago.Nets.Uncertainty;
using Kiago.Nets.Weights;

namespace Kiago.Cli;

/// <summary>
/// The one definition of the model options (<c>--tc-model</c>, <c>--ef-model</c>) and the one loader behind every
/// command: the file must exist, be a valid .kgw and predict the quantity the option needs (its output name and unit:
/// tc in K, ef in eV/atom), so an Ef model given as --tc-model (or a Tc model as a hull's --ef-model) is refused
/// instead of printing the wrong quantity. The model's input signature (kind) does not matter: any featuriser can
/// feed any slot.
/// </summary>
/// <summary>A quantity a model slot needs: the output name (case-insensitive) and unit a model must declare.</summary>
internal sealed record ModelQuantity(string Name, string Unit)
{
    public static readonly ModelQuantity Tc = new("tc", "K");
    public static readonly ModelQuantity Ef = new("ef", "eV/atom");

    public bool Matches(string outputName, string outputUnit) =>
        string.Equals(outputName, Name, StringComparison.OrdinalIgnoreCase) && outputUnit == Unit;
}

internal static class ModelOptions
{
    public const string DefaultTcModel = "weights/tc-resnet18.kgw";
    public const string DefaultEfModel = "weights/elemnet.kgw";
    public const string TcOption = "--tc-model";
    public const string EfOption = "--ef-model";

    public static Option<string?> Tc(string description, bool required = false) =>
        new(TcOption) { Description = description, Required = required };

    public static Option<string?> Ef(string description, bool required = false) =>
        new(EfOption) { Description = description, Required = required };

    /// <summary>The quantity each model option needs.</summary>
    public static ModelQuantity QuantityFor(string option) => option == TcOption ? ModelQuantity.Tc : ModelQuantity.Ef;

    /// <summary>
    /// Loads <paramref name="path"/> for <paramref name="option"/>; with <paramref name="expected"/> the model must
    /// predict that quantity. Every failure is an input error naming the option and the file.
    /// </summary>
    public static GraphModel Load(string path, string option, IBackend backend, ModelQuantity? expected) =>
        LoadChecked(path, option, expected, () => GraphModel.Load(path, backend));

    /// <summary>
    /// As <see cref="Load"/>, with the uncertainty file beside the model (x.kgw → x.kgu) when it is there: a missing
    /// .kgu is one line to <paramref name="notice"/> (σ and domain empty); a corrupted one, or one calibrated for
    /// another .kgw, is an input error naming the .kgu and the reason.
    /// </summary>
    public static UncertainModel LoadUncertain(string path, string option, IBackend backend, ModelQuantity? expected, Action<string>? notice) =>
        LoadChecked(path, option, expected, () => UncertainModel.Load(path, backend, notice));

    /// <summary>The path, load-error and quantity checks both loaders share.</summary>
    static T LoadChecked<T>(string path, string option, ModelQuantity? expected, Func<T> load)
        where T : ICompositionModel
    {
        if (Directory.Exists(path)) throw new UserInputException($"{option} {path}: is a folder, expected a .kgw file");
        if (!File.Exists(path)) throw new UserInputException($"{option} {path}: file not found");
        T model;
        try { model = load(); }
        catch (InputException e) { throw new UserInputException($"{option}: {e.Message}", e); }
        if (expected is { } quantity && !quantity.Matches(model.OutputName, model.OutputUnit))
        {
            model.Dispose();
            throw new UserInputException($"{option} {path}: predicts {model.OutputName} in {model.OutputUnit}, " +
                $"but {option} needs a model of {quantity.Name} in {quantity.Unit} (convert it with --output-name {quantity.Name} --output-unit {quantity.Unit} if that is what it predicts)");
        }
        return model;
    }

    /// <summary>"a tc-resnet", "an elemnet".</summary>
    public static string WithArticle(string name) => ModelKinds.TryParse(name, out var kind) ? ModelKinds.NameWithArticle(kind) : "a " + name;
}

/// <summary>
/// The one definition of <c>--out</c> and its checks, made before any compute: a folder that is a file, cannot be
/// created or cannot be written (e.g. under /proc), or a file that is a folder, is an input error naming the path.
/// </summary>
internal static class OutputOptions
{
    public static Option<string?> Folder(string description, bool required = false) =>
        new("--out") { Description = description, Required = required };

    public static Option<string?> File(string description, bool required = false) =>
        new("--out") { Description = description, Required = required };

    /// <summary>Creates <paramref name="path"/> (and its parents) and checks a file can be written there.</summary>
    public static string PrepareFolder(string path, string option = "--out")
    {
        if (System.IO.File.Exists(path)) throw new UserInputException($"{option} {path}: is a file, expected a folder");
        string probe = Path.Combine(path, $".kiago-write-test.{Environment.ProcessId}.{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(path);
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new UserInputException($"{option} {path}: cannot write there: {e.Message}", e);
        }
        return path;
    }

    /// <summary>Checks <paramref name="path"/> can become a file: not a folder, its folder creatable and writable.</summary>
    public static string CheckFile(string path, string option = "--out")
    {
        if (path.Length == 0) throw new UserInputException($"{option}: empty path");
        if (Directory.Exists(path) || path.EndsWith('/') || path.EndsWith(Path.DirectorySeparatorChar))
            throw new UserInputException($"{option} {path}: is a folder, expected a file name");
        string? parent = Path.GetDirectoryName(Path.GetFullPath(path));
        if (parent is not null) PrepareFolder(parent, option);
        return path;
    }

    /// <summary>Refuses to write <paramref name="output"/> over <paramref name="input"/> (the same file by any name).</summary>
    public static void RefuseOverwritingInput(string input, string output, string option)
    {
        if (SameFile(input, output))
            throw new UserInputException($"{option} {output}: is the input file {input}; choose another output name");
    }

    static bool SameFile(string a, string b)
    {
        string fa = Path.GetFullPath(a), fb = Path.GetFullPath(b);
        if (fa == fb) return true;
        try
        {
            var ra = new FileInfo(fa).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? fa;
            var rb = new FileInfo(fb).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? fb;
            return ra == rb;
        }
        catch (IOException) { return false; }
    }
}
