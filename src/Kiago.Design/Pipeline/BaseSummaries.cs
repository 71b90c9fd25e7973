namespace Kiago.Design.Pipeline;

/// <summary>
/// The per-base summary statistics (reference §7.1), shared by <c>kiago optimise</c> and the C-ES baseline: rates over
/// the unique rows (neutral and electronegativity as shares of the valid unique rows: the numerator counts only valid
/// rows, so a row the hydride check marks invalid cannot push a rate above 1 as the reference's Σ neutral / Σ valid
/// did; the hydride screen has no Pauling test, so its electronegativity share is 1 whenever a row is valid) and ΔTc top-K = mean of the K largest
/// Tc_rounded − Tc(base) among unique rows that pass every check (NaN when none do); novel_all_pass = unique all-pass
/// rows not in the known-compositions list.
/// </summary>
public static class BaseSummaries
{
    public static BaseSummary Summarise(int index, string name, string substitution, double baseTc, double baseEf,
        IReadOnlyList<CandidateRow> rows, int degenerate, double seconds)
    {
        var unique = rows.Where(r => r.Unique).ToList();
        int u = unique.Count, valid = unique.Count(r => r.Valid);
        double Rate(int num, int den) => den == 0 ? double.NaN : (double)num / den;
        var deltas = unique.Where(r => r.AllPass).Select(r => r.TcRounded - baseTc).OrderByDescending(d => d).ToList();
        double Top(int k) => deltas.Count == 0 ? double.NaN : deltas.Take(k).Average();
        return new BaseSummary(index, name, substitution, baseTc, baseEf, rows.Count, degenerate, u,
            Rate(u, rows.Count), Rate(valid, u), Rate(unique.Count(r => r.Valid && r.Neutral), valid), Rate(unique.Count(r => r.Valid && r.Electronegativity), valid),
            Rate(unique.Count(r => r.EfNegative), u), Rate(unique.Count(r => r.AllPass), u),
            unique.Count == 0 ? double.NaN : unique.Max(r => r.TcRounded), Top(10), Top(30), Top(50), seconds)
        {
            NovelAllPass = unique.Count(r => r.AllPass && r.Formula.Length > 0 && !r.Novelty.Known),
        };
    }

    /// <summary>Mean of the K largest absolute Tc_rounded among unique all-pass rows (the hydride tables' Tc top-K); NaN when none pass.</summary>
    public static double TopTc(IReadOnlyList<CandidateRow> rows, int k)
    {
        var tcs = rows.Where(r => r.Unique && r.AllPass).Select(r => r.TcRounded).OrderByDescending(t => t).Take(k).ToList();
        return tcs.Count == 0 ? double.NaN : tcs.Average();
    }
}
