using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Kiago.Chemistry;
using Kiago.Cli.IO;
using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;
using Kiago.Nets.Evaluation;
using Kiago.Nets;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Uncertainty;
using Kiago.Nets.Weights;

namespace Kiago.Cli;

/// <summary>
/// <c>kiago evaluate-model --model weights/x.kgw --data file.csv</c>: predicts every formula of a CSV with a .kgw model
/// and prints MAE, RMSE and R² against a target column. For a Tc model the regression figures are over the rows with
/// target &gt; 0 (SuperCon positives, as KIAGO reports them) and the rows with target 0 give the rate of negatives
/// predicted above <c>--negative-threshold</c> K. <c>--reference-column</c> compares with stored predictions (e.g.
/// PyTorch's in training/splits/*.csv): the import-fidelity check at dataset scale. These figures are the flagship
/// network's; when the model's .kgu sits beside it, the ensemble μ gets the same figures plus the coverage of
/// μ ± σ (nominal 68 %) and μ ± f·σ (nominal 95 %) and Spearman(|error|, σ).
/// </summary>
internal static class EvaluateModelCommand
{
    const int MaxReportedBadRows = 20;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model weight file (.kgw)", Required = true };
        var data = new Option<string>("--data") { Description = "CSV with a formula column and a target column (UTF-8, header line)", Required = true };
        var formulaColumn = new Option<string>("--formula-column") { Description = "Column holding the formulas", DefaultValueFactory = _ => "formula" };
        var targetColumn = new Option<string?>("--target-column")
        {
            Description = "Column holding the targets (default: tc_kelvin for a Tc model, formation_energy_ev_per_atom for ElemNet)",
        };
        var splitFile = new Option<string?>("--split-file")
        {
            Description = "CSV whose formula column lists the formulas to evaluate (e.g. training/splits/tc_test.csv); other rows are skipped",
        };
        var reference = new Option<string?>("--reference-column") { Description = "Column of stored predictions to compare with (max and mean |difference|)" };
        var threshold = new Option<double>("--negative-threshold") { Description = "Tc models: a negative counts as wrong above this (K)", DefaultValueFactory = _ => 10.0 };
        var predictions = new Option<string?>("--predictions") { Description = "Write formula, target, prediction to this CSV (atomically)" };
        var batch = new Option<int>("--batch") { Description = "Compositions per forward pass", DefaultValueFactory = _ => 1024 };
        var command = new Command("evaluate-model", "Evaluate a .kgw model on a CSV: MAE, RMSE, R² (Tc: and the negatives-above-threshold rate)")
        {
            model, data, formulaColumn, targetColumn, splitFile, reference, threshold, predictions, batch,
        };
        var compute = ComputeOptions.AddTo(command);
        command.SetAction(parse =>
        {
            int batchSize = parse.GetValue(batch);
            if (batchSize < 1) throw new UserInputException($"--batch must be >= 1, got {batchSize}");
            if (parse.GetValue(predictions) is { } predictionsPath)
            {
                OutputOptions.CheckFile(predictionsPath, "--predictions");
                OutputOptions.RefuseOverwritingInput(parse.GetRequiredValue(data), predictionsPath, "--predictions");
            }
            using (var backend = compute.CreateBackend(parse))
            {
                return Run(new Settings(parse.GetRequiredValue(model), parse.GetRequiredValue(data), parse.GetRequiredValue(formulaColumn),
                    parse.GetValue(targetColumn), parse.GetValue(splitFile), parse.GetValue(reference), parse.GetValue(threshold),
                    parse.GetValue(predictions), batchSize), backend, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            }
        });
        return command;
    }

    internal sealed record Settings(string Model, string Data, string FormulaColumn, string? TargetColumn, string? SplitFile,
        string? ReferenceColumn, double NegativeThreshold, string? Predictions, int Batch);

    sealed record Row(long Line, string Formula, Composition Composition, double Target, double? Reference);

    internal static int Run(Settings s, IBackend backend, TextWriter output, TextWriter error)
    {
        var clock = Stopwatch.StartNew();
        using (var model = ModelOptions.LoadUncertain(s.Model, "--model", backend, expected: null, line => error.WriteLine($"kiago: note: {line}")))
        {
            var net = model.Flagship;
            bool tc = ModelQuantity.Tc.Matches(net.OutputName, net.OutputUnit);
            string targetColumn = s.TargetColumn ?? (tc ? "tc_kelvin" : "formation_energy_ev_per_atom");
            HashSet<string>? keep = s.SplitFile is null ? null : ReadFormulaSet(s.SplitFile, s.FormulaColumn);
            var (rows, bad, skipped) = ReadRows(s.Data, s.FormulaColumn, targetColumn, s.ReferenceColumn, keep);
            foreach (var message in bad.Take(MaxReportedBadRows)) error.WriteLine($"kiago: warning: {message}");
            if (bad.Count > MaxReportedBadRows) error.WriteLine($"kiago: warning: … and {bad.Count - MaxReportedBadRows} more bad rows");
            if (rows.Count == 0) throw new UserInputException($"{s.Data}: no rows to evaluate" + (keep is null ? "" : $" (none listed in {s.SplitFile})"));

            var predicted = Predict(net, backend, rows, s.Batch, error);
            int ignored = rows.Count(r => Featuriser.DroppedElements(net.Kind, Fractions(r.Composition)).Count > 0);

            output.WriteLine($"model: {s.Model} ({ModelKinds.Name(net.Kind)}, output {net.OutputName} in {net.OutputUnit}; device {backend.DeviceName})");
            output.WriteLine($"data: {s.Data}, target column \"{targetColumn}\": {rows.Count} rows evaluated" +
                (keep is null ? "" : $", {skipped} not in {s.SplitFile}") + (bad.Count > 0 ? $", {bad.Count} bad rows" : ""));
            if (ignored > 0) output.WriteLine($"note: {ignored} rows contain elements this model ignores (dropped before the model)");
            var positive = Enumerable.Range(0, rows.Count).Where(i => !tc || rows[i].Target > 0).ToList();
            var m = RegressionMetrics.Of([.. positive.Select(i => predicted[i])], [.. positive.Select(i => rows[i].Target)]);
            string scope = tc ? $"rows with {targetColumn} > 0" : "all rows";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{scope}: n = {m.Count}, MAE = {m.Mae:0.####} {net.OutputUnit}, RMSE = {m.Rmse:0.####} {net.OutputUnit}, R² = {m.R2:0.####}"));
            if (tc)
            {
                var negatives = Enumerable.Range(0, rows.Count).Where(i => rows[i].Target == 0).ToList();
                int above = negatives.Count(i => predicted[i] > s.NegativeThreshold);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"rows with {targetColumn} = 0: n = {negatives.Count}, predicted > {s.NegativeThreshold:0.##} K: {above} " +
                    $"(rate {(negatives.Count > 0 ? (double)above / negatives.Count : double.NaN):0.####})"));
            }
            double[]? mu = null, sigma = null;
            if (model.HasUncertainty)
            {
                (mu, sigma) = model.Predict([.. rows.Select(r => r.Composition)], s.Batch);
                var mm = RegressionMetrics.Of([.. positive.Select(i => mu[i])], [.. positive.Select(i => rows[i].Target)]);
                var pm = positive.Select(i => mu[i]).ToList();
                var ps = positive.Select(i => sigma[i]).ToList();
                var pt = positive.Select(i => rows[i].Target).ToList();
                var err = positive.Select(i => Math.Abs(mu[i] - rows[i].Target)).ToList();
                var domain = model.DomainScores([.. positive.Select(i => rows[i].Composition)]);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"ensemble mu (flagship + {model.MemberCount} members, {Path.GetFileName(model.UncertaintyFilePath)}), {scope}: n = {mm.Count}, " +
                    $"MAE = {mm.Mae:0.####} {net.OutputUnit}, RMSE = {mm.Rmse:0.####} {net.OutputUnit}, R² = {mm.R2:0.####}"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"sigma ({scope}): coverage of mu ± sigma = {UncertaintyMetrics.Coverage(pm, ps, pt):0.####} (nominal 0.68), " +
                    $"of mu ± {model.Interval95Factor:0.###} sigma = {UncertaintyMetrics.Coverage(pm, ps, pt, model.Interval95Factor):0.####} (nominal 0.95); " +
                    $"Spearman(|error|, sigma) = {UncertaintyMetrics.Spearman(err, ps):0.####}; median sigma = {UncertaintyMetrics.Quantile(ps, 0.5):0.####} {net.OutputUnit}; " +
                    $"domain score median {UncertaintyMetrics.Quantile(domain, 0.5):0.###}, 95th percentile {UncertaintyMetrics.Quantile(domain, 0.95):0.###}"));
                if (tc)
                {
                    var negatives = Enumerable.Range(0, rows.Count).Where(i => rows[i].Target == 0).ToList();
                    int above = negatives.Count(i => mu[i] > s.NegativeThreshold);
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"ensemble mu, rows with {targetColumn} = 0: n = {negatives.Count}, predicted > {s.NegativeThreshold:0.##} K: {above} " +
                        $"(rate {(negatives.Count > 0 ? (double)above / negatives.Count : double.NaN):0.####})"));
                }
            }
            if (s.ReferenceColumn is not null)
            {
                var diff = rows.Select((r, i) => Math.Abs(predicted[i] - r.Reference!.Value)).ToList();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"vs \"{s.ReferenceColumn}\": max |difference| = {diff.Max():0.######}, mean = {diff.Average():0.######} {net.OutputUnit}"));
            }
            if (s.Predictions is not null)
            {
                AtomicFile.Write(s.Predictions, writer =>
                {
                    var csv = new CsvWriter(writer);
                    if (mu is null) csv.WriteRecord("line", s.FormulaColumn, targetColumn, "predicted");
                    else csv.WriteRecord("line", s.FormulaColumn, targetColumn, "predicted", "mu", "sigma");
                    for (int i = 0; i < rows.Count; i++)
                    {
                        var fields = new List<string> { rows[i].Line.ToString(CultureInfo.InvariantCulture), rows[i].Formula,
                            rows[i].Target.ToString("R", CultureInfo.InvariantCulture), predicted[i].ToString("R", CultureInfo.InvariantCulture) };
                        if (mu is not null)
                            fields.AddRange([mu[i].ToString("R", CultureInfo.InvariantCulture), sigma![i].ToString("R", CultureInfo.InvariantCulture)]);
                        csv.WriteRecord(fields);
                    }
                });
            }
            error.WriteLine($"kiago: evaluated {rows.Count} rows in {clock.Elapsed.TotalSeconds:0.00} s");
            return bad.Count == 0 ? ExitCodes.Ok : ExitCodes.BadInput;
        }
    }

    static float[] Fractions(Composition c)
    {
        var v = new float[Featuriser.CompositionColumns];
        c.WriteFractions(v);
        return v;
    }

    static double[] Predict(GraphModel net, IBackend backend, List<Row> rows, int batch, TextWriter error)
    {
        int b = Math.Min(batch, rows.Count);
        var host = new float[b * Featuriser.CompositionColumns];
        var y = new float[b];
        var result = new double[rows.Count];
        using var x = backend.Allocate<float>(host.Length);
        using var yDevice = backend.Allocate<float>(b);
        var progress = Stopwatch.StartNew();
        for (int start = 0; start < rows.Count; start += b)
        {
            int n = Math.Min(b, rows.Count - start);
            Array.Clear(host);
            for (int i = 0; i < n; i++)
                rows[start + i].Composition.WriteFractions(host.AsSpan(i * Featuriser.CompositionColumns, Featuriser.CompositionColumns));
            backend.Upload<float>(host.AsSpan(0, n * Featuriser.CompositionColumns), x);
            net.Forward(n, x, yDevice);
            backend.Download(yDevice, y.AsSpan(0, n));
            for (int i = 0; i < n; i++) result[start + i] = y[i];
            if (progress.Elapsed.TotalSeconds > 5)
            {
                error.WriteLine($"kiago: {start + n}/{rows.Count} rows predicted");
                progress.Restart();
            }
        }
        return result;
    }

    static HashSet<string> ReadFormulaSet(string path, string formulaColumn)
    {
        using var reader = CsvReader.Open(path, "--split-file");
        int index = CsvHeader.Read(reader, path).Require(formulaColumn);
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in reader.ReadAll())
            if (index < record.Fields.Length && record.Fields[index].Length > 0) set.Add(record.Fields[index]);
        return set;
    }

    static (List<Row> Rows, List<string> Bad, int Skipped) ReadRows(string path, string formulaColumn, string targetColumn,
        string? referenceColumn, HashSet<string>? keep)
    {
        using var reader = CsvReader.Open(path, "--data");
        var header = CsvHeader.Read(reader, path);
        int fi = header.Require(formulaColumn), ti = header.Require(targetColumn);
        int ri = referenceColumn is null ? -1 : header.Require(referenceColumn);
        var rows = new List<Row>();
        var bad = new List<string>();
        int skipped = 0;
        foreach (var record in reader.ReadAll())
        {
            if (record.IsBlank) continue; // blank line
            string where = $"{path}: line {record.Line}";
            if (record.Fields.Length < header.Names.Count)
            {
                bad.Add($"{where}: row has {record.Fields.Length} fields; the header has {header.Names.Count}");
                continue;
            }
            string formula = record.Fields[fi];
            if (keep is not null && !keep.Contains(formula))
            {
                skipped++;
                continue;
            }
            if (!Composition.TryParse(formula, out var composition, out var parseError))
            {
                bad.Add($"{where}, column \"{formulaColumn}\": {parseError.Message}");
                continue;
            }
            if (!TryNumber(record.Fields[ti], out double target))
            {
                bad.Add($"{where}, column \"{targetColumn}\": '{record.Fields[ti]}' is not a number");
                continue;
            }
            double? reference = null;
            if (ri >= 0)
            {
                if (!TryNumber(record.Fields[ri], out double r))
                {
                    bad.Add($"{where}, column \"{referenceColumn}\": '{record.Fields[ri]}' is not a number");
                    continue;
                }
                reference = r;
            }
            rows.Add(new(record.Line, formula, composition, target, reference));
        }
        return (rows, bad, skipped);
    }

    static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
