using Kiago.Chemistry;
using Kiago.Design.Experiments;
using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;
using Kiago.Nets;
using Kiago.Nets.Weights;

namespace Kiago.Cli.Eval;

/// <summary>Shared plumbing of the evaluation commands: base lists, backends and models.</summary>
internal static class EvalIO
{
    /// <summary>--base FORMULA (one) or --bases file.json (the reference's lists); exactly one of the two.</summary>
    public static IReadOnlyList<BaseMaterial> Bases(string? formula, string? file, string? target, int? oxidationState)
    {
        if ((formula is null) == (file is null)) throw new UserInputException("give exactly one of --base FORMULA and --bases FILE.json");
        if (file is not null)
        {
            try { return BaseMaterialList.ReadJson(file); }
            catch (BaseListException e) { throw new UserInputException(e.Message); }
        }
        if (!Composition.TryParse(formula!, out var composition, out var error))
            throw new UserInputException($"--base: {error.Message}");
        SubstitutionSpec? spec = null;
        if (target is not null)
        {
            if (!Elements.TryGet(target, out var element) || !composition.Contains(element))
                throw new UserInputException($"--target \"{target}\" is not an element of the base {formula}");
            int state = oxidationState ?? element.OxidationStatesPymatgenCommon.FirstOrDefault(s => s > 0);
            if (state == 0) throw new UserInputException($"--target {target} has no positive common oxidation state; give --ox-state");
            var remaining = Composition.FromAmounts(composition.Elements.Where(e => e != element).Select(e => KeyValuePair.Create(e, composition[e])));
            spec = new SubstitutionSpec(element, state, composition[element], remaining);
        }
        return [new BaseMaterial(composition.ToFormulaString(), composition, spec)];
    }

    public static IBackend Backend(string device)
    {
        try { return BackendFactory.Create(device); }
        catch (Exception e) when (e is ArgumentException or NoCudaDeviceException) { throw new UserInputException($"--device: {e.Message}"); }
    }

    public static ICompositionModel? LoadModel(string? path, IBackend backend, string option)
    {
        if (path is null) return null;
        if (!File.Exists(path)) throw new UserInputException($"{option}: {path}: no such file");
        try { return GraphModel.Load(path, backend); }
        catch (WeightFileException e) { throw new UserInputException($"{option}: {e.Message}"); }
    }

}
