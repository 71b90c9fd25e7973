using System.CommandLine;
using Kiago.Kernels;
using Kiago.Nets;
using Kiago.Nets.Uncertainty;
using Kiago.Nets.Weights;

namespace Kiago.Cli;

/// <summary>
/// The one definition of the model options (<c>--tc-model</c>, <c>--ef-model</c>) and the one loader behind every
/// command: the file must exist, be a valid .kgw and be the kind of model the option needs, so an ElemNet given as
/// --tc-model (or a Tc model as a hull's --ef-model) is refused instead of printing the wrong quantity.
/// </summary>
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

    /// <summary>The kind each model option needs.</summary>
    public static ModelKind KindFor(string option) => option == TcOption ? ModelKind.TcResNet : ModelKind.ElemNet;

    /// <summary>
    /// Loads <paramref name="path"/> for <paramref name="option"/>; with <paramref name="expected"/> the model must be
    /// that kind. Every failure is an input error naming the option and the file.
    /// </summary>
    public static GraphModel Load(string path, string option, IBackend backend, ModelKind? expected) =>
        LoadChecked(path, option, expected, () => GraphModel.Load(path, backend), m => m.Kind);

    /// <summary>
    /// As <see cref="Load"/>, with the uncertainty file beside the model (x.kgw → x.kgu) when it is there: a missing
    /// .kgu is one line to <paramref name="notice"/> (σ and domain empty); a corrupted one, or one calibrated for
    /// another .kgw, is an input error naming the .kgu and the reason.
    /// </summary>
    public static UncertainModel LoadUncertain(string path, string option, IBackend backend, ModelKind? expected, Action<string>? notice) =>
        LoadChecked(path, option, expected, () => UncertainModel.Load(path, backend, notice), m => m.Kind);

    /// <summary>The path, load-error and kind checks both loaders share.</summary>
    static T LoadChecked<T>(string path, string option, ModelKind? expected, Func<T> load, Func<T, ModelKind> kindOf)
        where T : ICompositionModel
    {
        if (Directory.Exists(path)) throw new UserInputException($"{option} {path}: is a folder, expected a .kgw file");
        if (!File.Exists(path)) throw new UserInputException($"{option} {path}: file not found");
        T model;
        try { model = load(); }
        catch (InputException e) { throw new UserInputException($"{option}: {e.Message}", e); }
        if (expected is { } kind && kindOf(model) != kind)
        {
            model.Dispose();
            throw new UserInputException($"{option} {path}: is {WithArticle(ModelKinds.Name(kindOf(model)))} model ({model.OutputName} in {model.OutputUnit}), " +
                $"but {option} needs {WithArticle(ModelKinds.Name(kind))} model");
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
