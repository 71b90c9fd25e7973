namespace Kiago.Nets.Onnx;

/// <summary>A file is not valid ONNX protobuf; the message names the file and the byte offset.</summary>
public sealed class OnnxFormatException(string file, long offset, string problem)
    : InputException($"{file}: byte {offset}: {problem}")
{
    public string File { get; } = file;
    public long Offset { get; } = offset;
    public string Problem { get; } = problem;
}
