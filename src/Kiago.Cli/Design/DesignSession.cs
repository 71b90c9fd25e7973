using Kiago.Cli.Runs;
using Kiago.Design.Pipeline;

namespace Kiago.Cli.Design;

/// <summary>What a finished (or cancelled) session reports.</summary>
public sealed record SessionResult(bool Completed, IReadOnlyList<BaseSummary> NewSummaries, int BasesDone, int BasesTotal, double Seconds);

/// <summary>
/// Runs the bases of one optimise/substitute/hydride request into --out DIR through <see cref="RunSession"/>: each base
/// becomes the parts candidates.csv, traces.csv, summary.csv and summary.json (<see cref="DesignLayout"/>), so resume,
/// --shard and <c>kiago merge</c> assemble the same tables from the same parts.
/// </summary>
public sealed class DesignSession(BaseDesigner designer, string screenName, TextWriter? progress)
{
    public const string ManifestFile = RunManifest.File;

    /// <summary>
    /// When set (--hull-reference), candidates.csv gets the e_above_hull column: one value per row of a base, in row
    /// order. Unset, the tables are exactly those of a run without a hull.
    /// </summary>
    public Func<IReadOnlyList<CandidateRow>, IReadOnlyList<double>>? EnergyAboveHull { get; init; }

    /// <summary>The extra objectives' columns of candidates.csv (<see cref="DesignTables.ObjectiveColumns"/>); empty without --objective.</summary>
    public IReadOnlyList<string> ObjectiveColumns { get; init; } = [];

    /// <summary>Where warnings go (a reused part that does not verify), even when progress is off.</summary>
    public TextWriter? Warnings { get; init; }

    public SessionResult Run(DesignRunRequest request, CancellationToken cancel)
    {
        var run = new RunRequest(request.Command, request.Arguments, [.. request.Bases.Select(b => b.Name)], request.Settings.Seed,
            request.OutDir, request.Resume, request.Device, request.Weights, screenName, request.Shard ?? Shard.Whole);
        var summaries = new List<BaseSummary>();
        designer.Progress = null;
        var session = new RunSession(DesignLayout.For(EnergyAboveHull is not null, ObjectiveColumns), Warnings ?? progress);
        var result = session.Run(run, (i, token) =>
        {
            var b = request.Bases[i];
            var reporter = new ProgressReporter(progress, i, request.Bases.Count, b.Name, request.Settings.Candidates);
            designer.Progress = reporter.Report;
            var outcome = designer.Run(request.Settings, b, i, token);
            reporter.Done(outcome.Summary, outcome.NoveltySeconds);
            summaries.Add(outcome.Summary);
            // the nearest-known-composition search inside the base's time (issue 12: ≤ 5 % of the wall time)
            return new BaseParts(DesignLayout.Parts(i, outcome, EnergyAboveHull?.Invoke(outcome.Rows)),
                new Dictionary<string, double> { ["novelty_seconds"] = outcome.NoveltySeconds });
        }, cancel);
        return new SessionResult(result.Completed, summaries, result.BasesDone, result.BasesTotal, result.Seconds);
    }
}

/// <summary>The run folder of optimise/substitute/hydride: candidates.csv, traces.csv, summary.csv, summary.json.</summary>
public static class DesignLayout
{
    public static RunLayout For(bool energyAboveHull, IReadOnlyList<string>? objectiveColumns = null) => new(
    [
        new RunTable("candidates.csv", DesignTables.Header(DesignTables.CandidateColumnsFor(energyAboveHull, objectiveColumns))),
        new RunTable("traces.csv", DesignTables.Header(DesignTables.TraceColumns)),
        new RunTable("summary.csv", DesignTables.Header(DesignTables.SummaryColumns)),
        new RunTable("summary.json", "", TableShape.JsonArray),
    ], []);

    public static IReadOnlyDictionary<string, string> Parts(int index, BaseOutcome outcome, IReadOnlyList<double>? energyAboveHull) =>
        new Dictionary<string, string>
        {
            ["candidates.csv"] = DesignTables.CandidateLines(outcome.Rows, energyAboveHull),
            ["traces.csv"] = DesignTables.TraceLines(index, outcome.Trace),
            ["summary.csv"] = DesignTables.SummaryLine(outcome.Summary),
            ["summary.json"] = DesignTables.SummaryJson(outcome.Summary),
        };
}
