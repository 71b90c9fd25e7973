namespace Kiago.Nets.Onnx;

/// <summary>ONNX TensorProto.DataType values Kiago reads (others are named in errors only).</summary>
public enum OnnxDataType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
    Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16,
}

/// <summary>
/// A decoded TensorProto. Floating types (float32, float16, bfloat16, double) are decoded to <see cref="Floats"/>;
/// integer and bool types to <see cref="Int64s"/>. <see cref="Offset"/> is where the tensor starts in its file.
/// </summary>
public sealed record OnnxTensor(string Name, OnnxDataType DataType, long[] Dims, float[]? Floats, long[]? Int64s, long Offset)
{
    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);

    public bool IsFloating => Floats is not null;
}

/// <summary>AttributeProto with the fields Kiago's importer can use.</summary>
public sealed record OnnxAttribute(
    string Name, int Type, float F, long I, string? S, OnnxTensor? T, float[] Floats, long[] Ints, string[] Strings)
{
    // AttributeProto.AttributeType
    public const int FloatType = 1, IntType = 2, StringType = 3, TensorType = 4, GraphType = 5,
        FloatsType = 6, IntsType = 7, StringsType = 8, TensorsType = 9, GraphsType = 10;
}

public sealed record OnnxNode(string Name, string OpType, string Domain, string[] Inputs, string[] Outputs,
    IReadOnlyList<OnnxAttribute> Attributes)
{
    public OnnxAttribute? Attribute(string name) => Attributes.FirstOrDefault(a => a.Name == name);

    /// <summary>The node as errors name it: its name if any, else its first output.</summary>
    public string Label => Name.Length > 0 ? Name : Outputs.Length > 0 ? $"<unnamed, output '{Outputs[0]}'>" : "<unnamed>";
}

/// <summary>A graph input/output: element type and shape (a dimension is a number, or a symbol such as "batch").</summary>
public sealed record OnnxValueInfo(string Name, OnnxDataType ElementType, OnnxDim[]? Shape);

public readonly record struct OnnxDim(long? Value, string? Symbol)
{
    public override string ToString() => Value?.ToString() ?? Symbol ?? "?";
}

public sealed record OnnxGraph(
    string Name, IReadOnlyList<OnnxNode> Nodes, IReadOnlyList<OnnxTensor> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs, IReadOnlyList<OnnxValueInfo> Outputs);

public sealed record OnnxModel(string File, long IrVersion, string ProducerName, string ProducerVersion,
    IReadOnlyDictionary<string, long> OpsetImports, OnnxGraph Graph)
{
    /// <summary>The default-domain ("ai.onnx") opset, 1 if absent.</summary>
    public long Opset => OpsetImports.TryGetValue("", out var v) ? v : OpsetImports.TryGetValue("ai.onnx", out v) ? v : 1;
}
