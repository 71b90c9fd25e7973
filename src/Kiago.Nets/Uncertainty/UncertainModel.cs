using System.Text.Json;
using System.Text.Json.Nodes;
using Kiago.Autodiff;
using Kiago.Chemistry;
using Kiago.Kernels;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using Kiago.Nets.Weights;

namespace Kiago.Nets.Uncertainty;

/// <summary>
/// A flagship .kgw plus, when its .kgu sibling is there, K small ensemble members, the μ/σ head and the domain index
/// (docs/MODELS.md, "Uncertainty"). Without a .kgu it is the flagship alone: μ is exactly
/// <see cref="GraphModel.Forward"/>, σ and domain scores are NaN.
/// </summary>
public sealed class UncertainModel : IUncertainCompositionModel
{
    readonly GraphModel flagship;
    readonly GraphModel[] members;
    readonly EnsembleHead? head;
    readonly DomainIndex? domain;
    readonly Tape forwardTape, backwardTape;
    DeviceBuffer<float>? scratchSigma;

    UncertainModel(GraphModel flagship, UncertaintyData? data, string? file)
    {
        this.flagship = flagship;
        Data = data;
        UncertaintyFilePath = file;
        var backend = flagship.Backend;
        members = data is null ? [] : [.. data.Members.Select(m => new GraphModel(m, backend))];
        head = data is null ? null : new EnsembleHead(backend, data.Head);
        domain = data is null ? null : new DomainIndex(data.Domain);
        forwardTape = new Tape(backend) { RecordGradients = false };
        backwardTape = new Tape(backend);
        SigmaMeaning = data is null ? "" : ReadSigmaMeaning(data.CardJson);
    }

    /// <summary>A flagship and (optionally) its uncertainty data, already in memory (tests, calibration).</summary>
    public static UncertainModel Create(WeightModel flagship, UncertaintyData? data, IBackend backend, string name = "<model>")
    {
        if (data is not null) CheckMembers(flagship, data, name);
        return new UncertainModel(new GraphModel(flagship, backend), data, data is null ? null : name);
    }

    /// <summary>
    /// Loads <paramref name="kgwPath"/> and its uncertainty file (<paramref name="uncertaintyPath"/>, default the
    /// sibling x.kgu). A missing default sibling is not an error: the model loads without uncertainty and
    /// <paramref name="notice"/> gets one line saying so. A given path that is missing, a corrupted file, or one
    /// calibrated for another .kgw (SHA-256 mismatch) throws <see cref="WeightFileException"/> naming the file.
    /// </summary>
    public static UncertainModel Load(string kgwPath, IBackend backend, Action<string>? notice = null, string? uncertaintyPath = null)
    {
        string path = uncertaintyPath ?? UncertaintyFile.SiblingOf(kgwPath);
        if (uncertaintyPath is not null && !File.Exists(uncertaintyPath))
            throw new WeightFileException(uncertaintyPath, "file not found");
        var model = WeightFile.Read(kgwPath);
        UncertaintyData? data = null;
        if (File.Exists(path))
        {
            data = UncertaintyFile.Read(path, FileChecksum.Sha256Hex(kgwPath), kgwPath);
            CheckMembers(model, data, path);
        }
        else notice?.Invoke($"{kgwPath}: no uncertainty data ({Path.GetFileName(path)} not found beside it): sigma and domain are empty");
        GraphModel net;
        try
        {
            net = new GraphModel(model, backend);
        }
        catch (GraphException e)
        {
            throw new WeightFileException(kgwPath, e.Message);
        }
        try
        {
            return new UncertainModel(net, data, data is null ? null : path);
        }
        catch (GraphException e)
        {
            net.Dispose();
            throw new WeightFileException(path, e.Message);
        }
    }

    static void CheckMembers(WeightModel flagship, UncertaintyData data, string file)
    {
        for (int k = 0; k < data.Members.Count; k++)
        {
            var m = data.Members[k];
            // a member may take another input signature than the flagship (its own featuriser feeds it), not another quantity
            if (m.OutputName != flagship.OutputName || m.OutputUnit != flagship.OutputUnit)
                throw new WeightFileException(file, $"member {k} predicts {m.OutputName} in {m.OutputUnit}; " +
                    $"the flagship predicts {flagship.OutputName} in {flagship.OutputUnit}");
        }
    }

    static string ReadSigmaMeaning(string cardJson)
    {
        try
        {
            return JsonNode.Parse(cardJson)?["sigma_meaning"]?.GetValue<string>() ?? "";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return "";
        }
    }

    public GraphModel Flagship => flagship;
    public UncertaintyData? Data { get; }
    public string? UncertaintyFilePath { get; }
    public int MemberCount => members.Length;
    public ModelKind Kind => flagship.Kind;
    public string OutputName => flagship.OutputName;
    public string OutputUnit => flagship.OutputUnit;
    public IBackend Backend => flagship.Backend;
    public bool HasUncertainty => head is not null;
    public string SigmaMeaning { get; }
    public double Interval95Factor => head?.Head.Interval95Factor ?? double.NaN;

    /// <summary>
    /// Records μ and σ on a tape: composition [N, 118] → (μ [N], σ [N]); σ is null without uncertainty data. For a
    /// larger objective built on the caller's tape (e.g. −(μ − κσ)); the outputs are kept until the tape's Reset.
    /// </summary>
    public (Tensor Mean, Tensor? Sigma) Run(Tape tape, Tensor composition)
    {
        var main = flagship.Run(tape, composition);
        if (head is null) return (main, null);
        var outputs = new List<Tensor>(members.Length + 1) { main };
        foreach (var m in members) outputs.Add(m.Run(tape, composition));
        var (mu, sigma) = head.Run(tape, outputs);
        return (mu, sigma);
    }

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        if (head is null)
        {
            flagship.Forward(batch, x, y);
            return;
        }
        try
        {
            var (mu, _) = Run(forwardTape, forwardTape.Leaf(x, [batch, Featuriser.CompositionColumns]));
            Backend.Copy(mu.Buffer, y, batch);
        }
        finally { forwardTape.Reset(); }
    }

    public void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dxAccumulate, float gradScale)
    {
        if (head is null)
        {
            flagship.ForwardBackward(batch, x, y, dxAccumulate, gradScale);
            return;
        }
        if (scratchSigma is null || scratchSigma.Length < batch)
        {
            scratchSigma?.Dispose();
            scratchSigma = Backend.Allocate<float>(batch);
        }
        ForwardBackwardWithSigma(batch, x, y, scratchSigma, dxAccumulate, gradScale, 0f);
    }

    public void ForwardWithSigma(int batch, DeviceBuffer<float> x, DeviceBuffer<float> mean, DeviceBuffer<float> sigma)
    {
        ShapeException.RequireLength("UncertainModel.ForwardWithSigma", "sigma", sigma, batch);
        if (head is null)
        {
            flagship.Forward(batch, x, mean);
            Backend.Fill(sigma, float.NaN, batch);
            return;
        }
        try
        {
            var (mu, s) = Run(forwardTape, forwardTape.Leaf(x, [batch, Featuriser.CompositionColumns]));
            Backend.Copy(mu.Buffer, mean, batch);
            Backend.Copy(s!.Buffer, sigma, batch);
        }
        finally { forwardTape.Reset(); }
    }

    public void ForwardBackwardWithSigma(int batch, DeviceBuffer<float> x, DeviceBuffer<float> mean, DeviceBuffer<float> sigma,
        DeviceBuffer<float> dxAccumulate, float meanGradScale, float sigmaGradScale)
    {
        ShapeException.RequireLength("UncertainModel.ForwardBackwardWithSigma", "sigma", sigma, batch);
        if (head is null)
        {
            flagship.ForwardBackward(batch, x, mean, dxAccumulate, meanGradScale);
            Backend.Fill(sigma, float.NaN, batch);
            return;
        }
        ShapeException.RequireLength("UncertainModel.ForwardBackwardWithSigma", "dxAccumulate", dxAccumulate, (long)batch * Featuriser.CompositionColumns);
        try
        {
            var leaf = backwardTape.Leaf(x, [batch, Featuriser.CompositionColumns], requiresGrad: true);
            var (mu, s) = Run(backwardTape, leaf);
            Backend.Copy(mu.Buffer, mean, batch);
            Backend.Copy(s!.Buffer, sigma, batch);
            if (sigmaGradScale == 0f) backwardTape.Backward(mu, meanGradScale);
            else backwardTape.Backward((mu, meanGradScale), (s, sigmaGradScale));
            if (leaf.Grad is { } g) Backend.Axpy(1f, g, dxAccumulate, (long)batch * Featuriser.CompositionColumns);
        }
        finally { backwardTape.Reset(); }
    }

    /// <summary>μ and σ for a list of compositions, in batches of <paramref name="batchSize"/> (σ NaN without uncertainty).</summary>
    public (double[] Mean, double[] Sigma) Predict(IReadOnlyList<Composition> compositions, int batchSize = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var mean = new double[compositions.Count];
        var sigma = new double[compositions.Count];
        if (compositions.Count == 0) return (mean, sigma);
        int batch = Math.Min(batchSize, compositions.Count);
        const int columns = Featuriser.CompositionColumns;
        using var x = Backend.Allocate<float>((long)batch * columns);
        using var m = Backend.Allocate<float>(batch);
        using var s = Backend.Allocate<float>(batch);
        var host = new float[batch * columns];
        var mh = new float[batch];
        var sh = new float[batch];
        for (int start = 0; start < compositions.Count; start += batch)
        {
            int n = Math.Min(batch, compositions.Count - start);
            Array.Clear(host);
            for (int i = 0; i < n; i++) compositions[start + i].WriteFractions(host.AsSpan(i * columns, columns));
            Backend.Upload<float>(host.AsSpan(0, n * columns), x);
            ForwardWithSigma(n, x, m, s);
            Backend.Download(m, mh.AsSpan(0, n));
            Backend.Download(s, sh.AsSpan(0, n));
            for (int i = 0; i < n; i++) (mean[start + i], sigma[start + i]) = (mh[i], sh[i]);
        }
        return (mean, sigma);
    }

    public double[] DomainScores(IReadOnlyList<Composition> compositions)
    {
        if (domain is null) return [.. compositions.Select(_ => double.NaN)];
        double reference = domain.Data.ReferenceDistance;
        return [.. domain.NearestDistances(compositions.Select(Fractions)).Select(d => d / reference)];
    }

    /// <summary>L1 distance (0 … 2) to the nearest training composition; NaN without uncertainty data.</summary>
    public double[] NearestTrainingDistances(IReadOnlyList<Composition> compositions) =>
        domain is null ? [.. compositions.Select(_ => double.NaN)] : domain.NearestDistances(compositions.Select(Fractions));

    static double[] Fractions(Composition c)
    {
        var v = new double[Featuriser.CompositionColumns];
        c.WriteFractions(v);
        return v;
    }

    public void Dispose()
    {
        forwardTape.Dispose();
        backwardTape.Dispose();
        scratchSigma?.Dispose();
        head?.Dispose();
        foreach (var m in members) m.Dispose();
        flagship.Dispose();
    }
}
