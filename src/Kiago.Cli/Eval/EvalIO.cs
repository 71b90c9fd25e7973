using Kiago.Chemistry;
using Kiago.Cli.Design;
using Kiago.Cli.IO;
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
        if ((formula is null) == (file is null)) throw new UsageException("give exactly one of --base FORMULA and --bases FILE (.json or .csv)");
        if (file is not null)
            return Path.GetExtension(file).Equals(".json", StringComparison.OrdinalIgnoreCase) ? BaseMaterialList.ReadJson(file) : ReadCsv(file);
        var composition = BaseListReader.ParseFormula(formula!, "--base");
        return [Material(composition, target, oxidationState, $"--base {formula}", "--target", "--ox-state")];
    }

    /// <summary>A CSV base list, the same file optimise reads (column formula; optional target and ox for substitutions).</summary>
    static IReadOnlyList<BaseMaterial> ReadCsv(string file)
    {
        bool substitution;
        using (var reader = CsvReader.Open(file))
            substitution = CsvHeader.Read(reader, file).Names.Contains("target");
        return [.. BaseListReader.Read(file, substitution).Select((b, i) => Material(b.Composition, b.Substitution?.Element,
            b.Substitution?.OxidationState, $"{file}: base {i + 1} ({b.Name})", "target", "ox"))];
    }

    static BaseMaterial Material(Composition composition, string? target, int? oxidationState, string where, string targetName, string oxName)
    {
        SubstitutionSpec? spec = null;
        if (target is not null)
        {
            if (!Elements.TryGet(target, out var element) || !composition.Contains(element))
                throw new UserInputException($"{where}: {targetName} \"{target}\" is not an element of the base");
            int state = oxidationState ?? element.OxidationStatesPymatgenCommon.FirstOrDefault(s => s > 0);
            if (state == 0) throw new UserInputException($"{where}: {targetName} {target} has no positive common oxidation state; give {oxName}");
            var remaining = Composition.FromAmounts(composition.Elements.Where(e => e != element).Select(e => KeyValuePair.Create(e, composition[e])));
            spec = new SubstitutionSpec(element, state, composition[element], remaining);
        }
        return new BaseMaterial(composition.ToFormulaString(), composition, spec);
    }

    /// <summary>The model of a --tc-model/--ef-model option (checked to be the kind it needs), or null without one.</summary>
    public static ICompositionModel? LoadModel(string? path, IBackend backend, string option) =>
        path is null ? null : ModelOptions.Load(path, option, backend, ModelOptions.QuantityFor(option));

}
