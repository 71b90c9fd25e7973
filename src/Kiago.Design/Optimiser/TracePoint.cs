namespace Kiago.Design.Optimiser;

/// <summary>
/// One trace row: the state the loss of 0-based step <see cref="Step"/> was evaluated on (before its Adam update).
/// Means are over candidates that are not flagged (zero-sum rows count 0 in the loss, as the reference's NaN → 0).
/// </summary>
public sealed record TracePoint(int Step, int Stage, float IntegerWeight, double BestTc, double MeanTc, double MeanEf,
    double MeanIntegerLoss, double MeanLoss, int Flagged, double ElapsedSeconds);

/// <summary>What the optimiser hands back for one base: host copies of the final state.</summary>
public sealed record OptimiserResult(
    int Candidates,
    float[] Stage1X,
    float[] FinalX,
    float[] FinalTc,
    float[] FinalEf,
    float[] FinalIntegerLoss,
    int[] FinalN,
    int[] Flags,
    IReadOnlyList<TracePoint> Trace,
    double Seconds);
