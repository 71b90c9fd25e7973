namespace Kiago.Nets.Onnx;

/// <summary>
/// An ONNX model uses something Kiago cannot run: the message names the file, the node, its op, what is wrong, and
/// (for an unknown op) the supported list.
/// </summary>
public sealed class ModelImportException(string message) : InputException(message)
{
    public static ModelImportException Node(string file, OnnxNode node, string problem) =>
        new($"{file}: node {node.Label} (op {node.OpType}): {problem}");

    public static ModelImportException UnsupportedOp(string file, OnnxNode node) =>
        new($"{file}: node {node.Label}: op '{(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType}' is not supported. " +
            $"Supported ops: {string.Join(", ", OnnxImporter.SupportedOps)}");

    public static ModelImportException UnsupportedAttribute(string file, OnnxNode node, string attribute, string value, string supported) =>
        new($"{file}: node {node.Label} (op {node.OpType}): attribute {attribute}={value} is not supported ({supported})");

    public static ModelImportException Graph(string file, string problem) => new($"{file}: {problem}");
}
