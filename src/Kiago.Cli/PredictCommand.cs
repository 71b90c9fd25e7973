using System.CommandLine;
using System.Globalization;
using Kiago.Chemistry;
using Kiago.Cli.IO;
using Kiago.Kernels;
using Kiago.Nets;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Uncertainty;
using Kiago.Nets.Weights;

namespace Kiago.Cli;

/// <summary>
/// <c>kiago predict FORMULA... | --in file.csv [--formula-column C] [--tc-model F] [--ef-model F] [--out file.csv] [--batch N]</c>:
/// Tc (K) and Ef (eV/atom) per formula, computed in batches, each with its calibrated σ (68 % half-width) and domain
/// score when the model's .kgu sits beside it (empty columns and a one-line note otherwise).
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var formulas = new Argument<string[]>("formula") { Description = "formulas, e.g. YBa2Cu3O7 MgB2", Arity = ArgumentArity.ZeroOrMore };
        var input = new Option<string?>("--in") { Description = "CSV file with a formula column" };
        var column = new Option<string>("--formula-column") { Description = "column of --in holding the formulas", DefaultValueFactory = _ => "formula" };
        var tc = ModelOptions.Tc($"Tc model (.kgw, tc-resnet); default {ModelOptions.DefaultTcModel}");
        var ef = ModelOptions.Ef($"formation-energy model (.kgw, elemnet); default {ModelOptions.DefaultEfModel}");
        var noTc = new Option<bool>("--no-tc") { Description = "skip the Tc model" };
        var noEf = new Option<bool>("--no-ef") { Description = "skip the formation-energy model" };
        var output = OutputOptions.File("write CSV here (atomically) instead of standard output");
        var batch = new Option<int>("--batch") { Description = "compositions per model call", DefaultValueFactory = _ => 1024 };
        var command = new Command("predict", "Predict Tc (K) and formation energy (eV/atom) for formulas")
        {
            formulas, input, column, tc, ef, noTc, noEf, output, batch,
        };
        var compute = ComputeOptions.AddTo(command);
        command.SetAction(r => Run(new Request(r.GetValue(formulas) ?? [], r.GetValue(input), r.GetValue(column)!,
                r.GetValue(noTc) ? null : r.GetValue(tc) ?? ShippedWeights.Locate(ModelOptions.DefaultTcModel), r.GetValue(tc) is not null,
                r.GetValue(noEf) ? null : r.GetValue(ef) ?? ShippedWeights.Locate(ModelOptions.DefaultEfModel), r.GetValue(ef) is not null,
                r.GetValue(output), r.GetValue(batch), () => compute.CreateBackend(r)),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    internal sealed record Request(string[] Formulas, string? Input, string FormulaColumn, string? TcModel, bool TcExplicit,
        string? EfModel, bool EfExplicit, string? Output, int Batch, Func<IBackend> CreateBackend);

    static int Run(Request request, TextWriter stdout, TextWriter stderr)
    {
        if (request.Batch < 1) throw new UserInputException($"--batch {request.Batch}: must be at least 1");
        if (request.TcModel is null && request.EfModel is null) throw new UsageException("--no-tc and --no-ef leave nothing to predict");
        if ((request.Formulas.Length > 0) == (request.Input is not null))
            throw new UsageException("give formulas as arguments or --in file.csv (one of the two)");
        if (request.Output is not null)
        {
            OutputOptions.CheckFile(request.Output);
            if (request.Input is not null) OutputOptions.RefuseOverwritingInput(request.Input, request.Output, "--out");
        }
        var rows = request.Input is not null ? ReadCsv(request.Input, request.FormulaColumn) : ParseArguments(request.Formulas);
        CheckModel(request.TcModel, request.TcExplicit, ModelOptions.TcOption, "a Tc predictor (ResNet18 on the periodic-table image)");
        CheckModel(request.EfModel, request.EfExplicit, ModelOptions.EfOption, "a formation-energy predictor (ElemNet)");

        using var backend = request.CreateBackend();
        using var tcModel = request.TcModel is null ? null
            : ModelOptions.LoadUncertain(request.TcModel, ModelOptions.TcOption, backend, ModelQuantity.Tc, Notice(stderr));
        using var efModel = request.EfModel is null ? null
            : ModelOptions.LoadUncertain(request.EfModel, ModelOptions.EfOption, backend, ModelQuantity.Ef, Notice(stderr));
        var tc = Predict(rows, tcModel, request.Batch, stderr);
        var ef = Predict(rows, efModel, request.Batch, stderr);

        void Write(TextWriter w)
        {
            var csv = new CsvWriter(w);
            var header = new List<string> { "formula" };
            foreach (var m in new[] { tcModel, efModel })
                if (m is not null)
                    header.AddRange([$"{m.OutputName}_{Unit(m.OutputUnit)}", $"{m.OutputName}_sigma_{Unit(m.OutputUnit)}", $"{m.OutputName}_domain"]);
            if (efModel is not null) header.Add("ef_ignored_elements");
            csv.WriteRecord(header);
            for (int i = 0; i < rows.Count; i++)
            {
                var fields = new List<string> { rows[i].Formula };
                foreach (var p in new[] { tc, ef })
                    if (p is not null) fields.AddRange([Number(p.Mean[i]), Number(p.Sigma[i]), Number(p.Domain[i])]);
                if (efModel is not null)
                    fields.Add(string.Join(" ", Featuriser.DroppedElements(efModel.Kind, rows[i].Fractions).Select(z => Elements.ByZ(z).Symbol)));
                csv.WriteRecord(fields);
            }
        }

        if (request.Output is null) Write(stdout);
        else AtomicFile.Write(request.Output, Write);
        return ExitCodes.Ok;
    }

    static string Unit(string unit) => unit.Replace("/", "_per_").Replace(" ", "_");

    static void CheckModel(string? path, bool explicitPath, string option, string what)
    {
        if (path is null || File.Exists(path)) return;
        throw new UserInputException(explicitPath
            ? $"{option} {path}: file not found"
            : $"{path}: not found. This default needs {what}: train one (training/, see docs/MODELS.md) and convert it with " +
              $"'kiago convert model.onnx -o {path}', or pass {option} FILE, or skip it with {(option == "--tc-model" ? "--no-tc" : "--no-ef")}");
    }

    internal sealed record Row(string Formula, Composition Composition, float[] Fractions);

    static List<Row> ParseArguments(string[] formulas)
    {
        var rows = new List<Row>(formulas.Length);
        for (int i = 0; i < formulas.Length; i++)
        {
            if (!Composition.TryParse(formulas[i], out var c, out var e))
                throw new UserInputException($"formula {i + 1} \"{formulas[i]}\": {e.Message}");
            rows.Add(ToRow(formulas[i], c));
        }
        return rows;
    }

    static List<Row> ReadCsv(string path, string column)
    {
        using var reader = CsvReader.Open(path, "--in");
        var header = CsvHeader.Read(reader, path);
        int index = header.Require(column);
        var rows = new List<Row>();
        foreach (var record in reader.ReadAll())
        {
            if (record.IsBlank) continue;
            if (index >= record.Fields.Length)
                throw new UserInputException($"{path} line {record.Line}: no field for column \"{column}\"");
            string formula = record.Fields[index];
            if (!Composition.TryParse(formula, out var c, out var e))
                throw new UserInputException($"{path} line {record.Line}, column \"{column}\": \"{formula}\": {e.Message}");
            rows.Add(ToRow(formula, c));
        }
        if (rows.Count == 0) throw new UserInputException($"--in {path}: no rows below the header");
        return rows;
    }

    static Row ToRow(string formula, Composition c)
    {
        var fractions = new float[Featuriser.CompositionColumns];
        c.WriteFractions(fractions);
        return new Row(formula, c, fractions);
    }

    static Action<string> Notice(TextWriter stderr) => line => stderr.WriteLine($"kiago: note: {line}");

    /// <summary>Empty for NaN (no uncertainty data), else the shortest round-trip float text.</summary>
    static string Number(float v) => float.IsNaN(v) ? "" : v.ToString("G7", CultureInfo.InvariantCulture);

    sealed record Predictions(float[] Mean, float[] Sigma, float[] Domain);

    static Predictions? Predict(List<Row> rows, UncertainModel? model, int batchSize, TextWriter stderr)
    {
        if (model is null) return null;
        var result = new Predictions(new float[rows.Count], new float[rows.Count], new float[rows.Count]);
        var backend = model.Backend;
        int batch = Math.Min(batchSize, rows.Count);
        using var x = backend.Allocate<float>((long)batch * Featuriser.CompositionColumns);
        using var y = backend.Allocate<float>(batch);
        using var s = backend.Allocate<float>(batch);
        var host = new float[batch * Featuriser.CompositionColumns];
        bool progress = rows.Count > batch;
        for (int start = 0; start < rows.Count; start += batch)
        {
            int n = Math.Min(batch, rows.Count - start);
            for (int i = 0; i < n; i++) rows[start + i].Fractions.CopyTo(host, i * Featuriser.CompositionColumns);
            backend.Upload<float>(host.AsSpan(0, n * Featuriser.CompositionColumns), x);
            model.ForwardWithSigma(n, x, y, s);
            backend.Download(y, result.Mean.AsSpan(start, n));
            backend.Download(s, result.Sigma.AsSpan(start, n));
            if (progress) stderr.WriteLine($"{model.OutputName}: {start + n}/{rows.Count}");
        }
        var domain = model.DomainScores([.. rows.Select(r => r.Composition)]);
        for (int i = 0; i < rows.Count; i++) result.Domain[i] = (float)domain[i];
        return result;
    }
}
