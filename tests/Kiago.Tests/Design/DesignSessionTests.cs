using Kiago.Kernels.Cpu;
using Kiago.Chemistry;
using Kiago.Cli.Design;
using Kiago.Kernels.Composition;
using Kiago.Design.Constraints;
using Kiago.Design.Optimiser;
using Kiago.Design.Pipeline;
using Kiago.Nets;
using Kiago.Tests.Design.Support;

namespace Kiago.Tests.Design;

public sealed class DesignSessionTests : IDisposable
{
    const int E = 118;
    readonly string root = Path.Combine(Path.GetTempPath(), "kiago-design-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    static DesignRunRequest Request(string dir, bool resume = false) => new(
        "optimise",
        [new("candidates", "24"), new("steps", "16")],
        [
            new DesignBase("YBa2Cu3O7", Composition.Parse("YBa2Cu3O7")),
            new DesignBase("LaFeAsO", Composition.Parse("LaFeAsO"), new SubstitutionTarget("La")),
            new DesignBase("MgB2", Composition.Parse("MgB2")),
        ],
        new DesignSettings
        {
            Candidates = 24, Seed = 3,
            Optimiser = new OptimiserOptions { Steps = 16, TraceEvery = 4 },
            Constraints = new DesignConstraints { MaxElements = 4, MaxAtoms = 30 },
        },
        dir, resume, "cpu", [new("tc", "test-mlp"), new("ef", "test-mlp")]);

    /// <summary>Runs a request; cancelAtCall &gt; 0 cancels at that Tc-model ForwardBackward call.</summary>
    static SessionResult RunSession(DesignRunRequest request, int cancelAtCall = 0)
    {
        using var backend = new CpuBackend();
        using var tcInner = new MlpTestModel(backend, 101, outputScale: 80f, outputBias: 20f);
        using var ef = new MlpTestModel(backend, 202, outputScale: 2f, name: "ef", unit: "eV/atom");
        using var cts = new CancellationTokenSource();
        ICompositionModel tc = cancelAtCall > 0 ? new CancellingModel(tcInner, cts, cancelAtCall) : tcInner;
        var designer = new BaseDesigner(backend, tc, ef, new TestScreen());
        return new DesignSession(designer, "test", progress: null).Run(request, cts.Token);
    }

    static readonly string[] Tables = ["candidates.csv", "summary.csv", "summary.json", "traces.csv"];

    [Fact]
    public void Two_runs_write_identical_tables_and_rows_hold_the_invariants()
    {
        string a = Path.Combine(root, "a"), b = Path.Combine(root, "b");
        Assert.True(RunSession(Request(a)).Completed);
        Assert.True(RunSession(Request(b)).Completed);
        foreach (var t in Tables) Assert.Equal(File.ReadAllBytes(Path.Combine(a, t)), File.ReadAllBytes(Path.Combine(b, t)));

        var lines = File.ReadAllLines(Path.Combine(a, "candidates.csv"));
        Assert.Equal(1 + 3 * 24, lines.Length);
        var header = lines[0].Split(',');
        int Col(string name) => Array.IndexOf(header, name);
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            if (f[Col("degenerate")] == "true") continue;
            var x = new double[E];
            Composition.Parse(f[Col("final_composition")]).WriteFractions(x); // normalised by the parser
            var raw = Composition.Parse(f[Col("final_composition")]);
            Assert.True(Math.Abs(raw.TotalAtoms - 1) < 1e-4, $"fractions sum to {raw.TotalAtoms}: {line}");
            string formula = f[Col("formula")];
            int n = int.Parse(f[Col("n_atoms")]);
            if (formula.Length > 0 && f[Col("base")] == "LaFeAsO")
            {
                // substitution: integerize_atom_dict — Fe1As1O1 exactly, substituents sum to La's 1
                var sub = Composition.Parse(formula);
                foreach (var s in new[] { "Fe", "As", "O" }) Assert.Equal(1.0, sub[Elements.Get(s)]);
                Assert.True(Math.Abs(sub.TotalAtoms - 4) < 1e-9, line);
            }
            else if (formula.Length > 0)
            {
                var integer = Composition.Parse(formula);
                Assert.True(integer.IsIntegral);
                // the formula is round(x·N) for the printed x (to the 6 printed decimals)
                foreach (var el in integer.Elements)
                    Assert.True(Math.Abs(integer[el] - raw[el] * n) <= 0.5 + 1e-4 * n, $"{el}: {integer[el]} vs {raw[el]}·{n}");
            }
            if (f[Col("base")] == "LaFeAsO")
            {
                // fixed part Fe = As = O = 0.25 kept; La itself is not allowed (only elements sharing +3, not the fixed ones)
                foreach (var s in new[] { "Fe", "As", "O" }) Assert.True(Math.Abs(raw[Elements.Get(s)] - 0.25) < 1e-6, line);
            }
            else Assert.True(raw.Count <= 4, $"more than k = 4 elements: {line}");
            Assert.All(raw.Elements, el => Assert.True(Kiago.Nets.Featurisers.ElemNetLayout.Elements.Contains(el.Z), $"{el} outside the ElemNet range"));
        }
    }

    [Fact]
    public void Resume_after_a_kill_gives_the_uninterrupted_result()
    {
        string full = Path.Combine(root, "full"), killed = Path.Combine(root, "killed");
        Assert.True(RunSession(Request(full)).Completed);
        // killed during base 2 (each base makes 16 Tc ForwardBackward calls)
        var first = RunSession(Request(killed), cancelAtCall: 16 + 7);
        Assert.False(first.Completed);
        Assert.Equal(1, first.BasesDone);
        var partial = File.ReadAllLines(Path.Combine(killed, "candidates.csv"));
        Assert.Equal(1 + 24, partial.Length); // consistent: exactly the finished base
        Assert.Contains("\"state\": \"cancelled\"", File.ReadAllText(Path.Combine(killed, "manifest.json")));

        var e = Assert.Throws<Kiago.Cli.UserInputException>(() => RunSession(Request(killed)));
        Assert.Contains("--resume", e.Message);
        var resumed = RunSession(Request(killed, resume: true));
        Assert.True(resumed.Completed);
        Assert.Equal(2, resumed.NewSummaries.Count);
        foreach (var t in Tables) Assert.Equal(File.ReadAllBytes(Path.Combine(full, t)), File.ReadAllBytes(Path.Combine(killed, t)));
        Assert.Contains("\"state\": \"complete\"", File.ReadAllText(Path.Combine(killed, "manifest.json")));
    }

    [Fact]
    public void Resume_with_other_arguments_is_refused()
    {
        string dir = Path.Combine(root, "r");
        RunSession(Request(dir), cancelAtCall: 3);
        var changed = Request(dir, resume: true) with { Arguments = [new("candidates", "24"), new("steps", "17")] };
        var e = Assert.Throws<Kiago.Cli.UserInputException>(() => RunSession(changed));
        Assert.Contains("steps=17", e.Message);
    }
}
