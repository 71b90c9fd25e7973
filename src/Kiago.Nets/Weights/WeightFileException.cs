namespace Kiago.Nets.Weights;

/// <summary>A .kgw file cannot be used: the message names the file and what is wrong with it.</summary>
public sealed class WeightFileException(string file, string problem) : InputException($"{file}: {problem}")
{
    public string File { get; } = file;
}
