using System.Buffers.Binary;
using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using MessagePack;

namespace Kiago.Nets.Weights;

/// <summary>
/// Reads and writes .kgw weight files (MessagePack; layout in docs/weight-format.md):
/// <c>["KIAGO-KGW", version, sha256(payload), payload]</c>, where payload is a MessagePack map with the model.
/// Reading checks the magic, the version and the checksum before decoding the payload, and decodes with
/// MessagePack's untrusted-data limits.
/// </summary>
public static class WeightFile
{
    public const string Magic = "KIAGO-KGW";
    public const int FormatVersion = 1;

    static readonly WeightEnvelope.Format Envelope = new(Magic, FormatVersion, "not a Kiago weight file (.kgw)",
        version => version > FormatVersion ? " (written by a newer Kiago: upgrade)" : " (re-convert the model)");

    // ---- write ----------------------------------------------------------------------------------------------------

    public static byte[] Serialize(WeightModel model)
    {
        ValidateCard(model.CardJson, "<model>");
        model.Graph.InferShapes();
        return WeightEnvelope.Wrap(Envelope, SerializePayload(model));
    }

    /// <summary>Writes atomically (temporary file, then rename).</summary>
    public static void Write(string path, WeightModel model) => WeightEnvelope.WriteFile(path, Serialize(model));

    static byte[] SerializePayload(WeightModel m)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteMapHeader(7);
        w.Write("kind"); w.Write(ModelKinds.Name(m.Kind));
        w.Write("input_elements"); WriteInts(ref w, m.InputElements);
        w.Write("output"); w.WriteMapHeader(2); w.Write("name"); w.Write(m.OutputName); w.Write("unit"); w.Write(m.OutputUnit);
        w.Write("graph");
        var g = m.Graph;
        w.WriteMapHeader(4);
        w.Write("input"); w.Write(g.InputName);
        w.Write("input_shape"); WriteInts(ref w, g.InputShape);
        w.Write("output"); w.Write(g.OutputName);
        w.Write("nodes");
        w.WriteArrayHeader(g.Nodes.Count);
        foreach (var n in g.Nodes)
        {
            w.WriteMapHeader(6);
            w.Write("name"); w.Write(n.Name);
            w.Write("op"); w.Write(n.Op);
            w.Write("inputs"); WriteStrings(ref w, n.Inputs);
            w.Write("output"); w.Write(n.Output);
            w.Write("weights"); WriteStrings(ref w, n.Weights);
            w.Write("attrs");
            w.WriteMapHeader(n.Attributes.Count);
            foreach (var (k, v) in n.Attributes.OrderBy(kv => kv.Key, StringComparer.Ordinal)) { w.Write(k); WriteInts(ref w, v); }
        }
        w.Write("tensors");
        w.WriteArrayHeader(g.Tensors.Count);
        foreach (var t in g.Tensors.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            w.WriteMapHeader(4);
            w.Write("name"); w.Write(t.Name);
            w.Write("dtype"); w.Write(t.StorageType == TensorStorageType.Float16 ? "f16" : "f32");
            w.Write("shape"); WriteInts(ref w, t.Shape);
            w.Write("data"); w.Write(Encode(t));
        }
        w.Write("card"); w.Write(m.CardJson);
        w.Write("created_by"); w.Write(m.CreatedBy);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    static void WriteInts(ref MessagePackWriter w, int[] values)
    {
        w.WriteArrayHeader(values.Length);
        foreach (var v in values) w.Write(v);
    }

    static void WriteStrings(ref MessagePackWriter w, string[] values)
    {
        w.WriteArrayHeader(values.Length);
        foreach (var v in values) w.Write(v);
    }

    static byte[] Encode(WeightTensor t)
    {
        if (t.Data.Length != t.ElementCount)
            throw new ArgumentException($"tensor '{t.Name}' has {t.Data.Length} values for shape {GraphOps.Show(t.Shape)}");
        if (FirstNonFinite(t.Data) is int bad)
            throw new InputException($"tensor '{t.Name}' holds {t.Data[bad]} at index {bad}: a model with non-finite weights predicts nothing meaningful");
        if (t.StorageType == TensorStorageType.Float32)
        {
            var bytes = new byte[4 * t.Data.Length];
            for (int i = 0; i < t.Data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), t.Data[i]);
            return bytes;
        }
        var half = new byte[2 * t.Data.Length];
        for (int i = 0; i < t.Data.Length; i++)
        {
            var h = (Half)t.Data[i];
            if (Half.IsInfinity(h) && float.IsFinite(t.Data[i]))
                throw new InputException($"tensor '{t.Name}' value {t.Data[i]} at index {i} is outside the float16 range (±65504); keep this model in fp32 (no --fp16)");
            BinaryPrimitives.WriteUInt16LittleEndian(half.AsSpan(2 * i), BitConverter.HalfToUInt16Bits(h));
        }
        return half;
    }

    /// <summary>The tensor's values rounded to float16 and back (what an fp16 file will load as).</summary>
    public static float[] RoundToHalf(WeightTensor t) => t.Data.Select(v => (float)(Half)v).ToArray();

    static int? FirstNonFinite(float[] values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return null;
    }

    /// <summary>
    /// Checks the card is a JSON object and, if it has element_frequencies, that these are 118 numbers, none negative,
    /// not all zero (the optimiser's initialiser draws replacement elements from them).
    /// </summary>
    public static void ValidateCard(string cardJson, string file)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(cardJson);
        }
        catch (JsonException e)
        {
            throw new WeightFileException(file, $"model card is not valid JSON: {e.Message}");
        }
        if (node is not JsonObject card) throw new WeightFileException(file, "model card must be a JSON object");
        if (card["element_frequencies"] is { } freq)
        {
            if (freq is not JsonArray array || array.Count != 118 || array.Any(v => v is not JsonValue value || !value.TryGetValue<double>(out _)))
                throw new WeightFileException(file, "model card: element_frequencies must be an array of 118 numbers (index = Z - 1)");
            var values = array.Select(v => v!.GetValue<double>()).ToArray();
            int negative = Array.FindIndex(values, v => v < 0 || !double.IsFinite(v));
            if (negative >= 0)
                throw new WeightFileException(file, $"model card: element_frequencies[{negative}] (Z = {negative + 1}) is {values[negative]}; frequencies must be finite and >= 0");
            if (!(values.Sum() > 0))
                throw new WeightFileException(file, "model card: element_frequencies are all zero (the initialiser draws replacement elements from them)");
        }
    }

    // ---- read -----------------------------------------------------------------------------------------------------

    public static WeightModel Read(string path) => Deserialize(WeightEnvelope.ReadFile(path), path);

    public static WeightModel Deserialize(byte[] bytes, string file)
    {
        string hint = file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)
            ? " (this looks like an ONNX file: convert it with 'kiago convert')" : "";
        byte[] payload = WeightEnvelope.Unwrap(Envelope, bytes, file, hint);
        try
        {
            return ReadPayload(payload, file);
        }
        catch (Exception e) when (e is EndOfStreamException or MessagePackSerializationException or InvalidOperationException or OverflowException)
        {
            throw new WeightFileException(file, $"payload is malformed although its checksum matches (written by a buggy tool?): {e.Message}");
        }
    }

    static WeightModel ReadPayload(byte[] payload, string file)
    {
        var security = MessagePackSecurity.UntrustedData;
        var r = new MessagePackReader(payload);
        string? kindName = null, outputName = null, outputUnit = null, card = null, createdBy = null;
        int[]? elements = null;
        ModelGraph? graph = null;
        var tensors = new Dictionary<string, WeightTensor>();
        int fields = r.ReadMapHeader();
        security.DepthStep(ref r);
        for (int f = 0; f < fields; f++)
        {
            string key = r.ReadString() ?? "";
            switch (key)
            {
                case "kind": kindName = r.ReadString(); break;
                case "input_elements": elements = ReadInts(ref r, security); break;
                case "output":
                {
                    int n = r.ReadMapHeader();
                    for (int k = 0; k < n; k++)
                    {
                        string ok = r.ReadString() ?? "";
                        if (ok == "name") outputName = r.ReadString();
                        else if (ok == "unit") outputUnit = r.ReadString();
                        else r.Skip();
                    }
                    break;
                }
                case "graph": graph = ReadGraph(ref r, security, file); break;
                case "tensors":
                {
                    int n = r.ReadArrayHeader();
                    for (int k = 0; k < n; k++)
                    {
                        var t = ReadTensor(ref r, security, file);
                        if (!tensors.TryAdd(t.Name, t)) throw new WeightFileException(file, $"tensor '{t.Name}' appears twice");
                    }
                    break;
                }
                case "card": card = r.ReadString(); break;
                case "created_by": createdBy = r.ReadString(); break;
                default: r.Skip(); break;
            }
        }
        r.Depth--;
        if (kindName is null || !ModelKinds.TryParse(kindName, out var kind))
            throw new WeightFileException(file, $"unknown model kind '{kindName}' (known: {ModelKinds.AllNames})");
        if (elements is null || graph is null || outputName is null || outputUnit is null)
            throw new WeightFileException(file, "payload lacks one of: input_elements, graph, output name/unit");
        foreach (int z in elements)
            if (z is < 1 or > 118) throw new WeightFileException(file, $"input_elements contains Z={z}, outside 1..118");
        // the featuriser feeds the model its kind's layout; a file claiming other input elements was made for another input
        var layout = Featuriser.Layout(kind).Accepted;
        if (!elements.SequenceEqual(layout))
            throw new WeightFileException(file, $"input_elements lists {elements.Length} elements, but {ModelKinds.NameWithArticle(kind)} " +
                $"model's input takes the {layout.Count} elements of its layout (first difference at position " +
                $"{elements.Zip(layout).TakeWhile(p => p.First == p.Second).Count() + 1})");
        foreach (var t in tensors.Values)
            if (FirstNonFinite(t.Data) is int bad)
                throw new WeightFileException(file, $"tensor '{t.Name}' holds {t.Data[bad]} at index {bad}: the weights are corrupt (non-finite)");
        graph = graph with { Tensors = tensors };
        card ??= "{}";
        ValidateCard(card, file);
        try
        {
            graph.InferShapes();
        }
        catch (GraphException e)
        {
            throw new WeightFileException(file, $"inconsistent graph: {e.Message}");
        }
        return new WeightModel(kind, elements, outputName, outputUnit, graph, card, createdBy ?? "");
    }

    static int[] ReadInts(ref MessagePackReader r, MessagePackSecurity security)
    {
        int n = r.ReadArrayHeader();
        var values = new int[n];
        for (int i = 0; i < n; i++) values[i] = r.ReadInt32();
        return values;
    }

    static string[] ReadStrings(ref MessagePackReader r)
    {
        int n = r.ReadArrayHeader();
        var values = new string[n];
        for (int i = 0; i < n; i++) values[i] = r.ReadString() ?? "";
        return values;
    }

    static ModelGraph ReadGraph(ref MessagePackReader r, MessagePackSecurity security, string file)
    {
        security.DepthStep(ref r);
        string? input = null, output = null;
        int[]? inputShape = null;
        var nodes = new List<GraphNode>();
        int fields = r.ReadMapHeader();
        for (int f = 0; f < fields; f++)
        {
            switch (r.ReadString())
            {
                case "input": input = r.ReadString(); break;
                case "input_shape": inputShape = ReadInts(ref r, security); break;
                case "output": output = r.ReadString(); break;
                case "nodes":
                {
                    int n = r.ReadArrayHeader();
                    for (int k = 0; k < n; k++) nodes.Add(ReadNode(ref r, security));
                    break;
                }
                default: r.Skip(); break;
            }
        }
        r.Depth--;
        if (input is null || output is null || inputShape is null)
            throw new WeightFileException(file, "graph lacks input, input_shape or output");
        return new ModelGraph(input, inputShape, output, nodes, new Dictionary<string, WeightTensor>());
    }

    static WeightTensor ReadTensor(ref MessagePackReader r, MessagePackSecurity security, string file)
    {
        security.DepthStep(ref r);
        string name = "", dtype = "";
        int[] shape = [];
        byte[]? data = null;
        int fields = r.ReadMapHeader();
        for (int f = 0; f < fields; f++)
        {
            switch (r.ReadString())
            {
                case "name": name = r.ReadString() ?? ""; break;
                case "dtype": dtype = r.ReadString() ?? ""; break;
                case "shape": shape = ReadInts(ref r, security); break;
                case "data": data = r.ReadBytes()?.ToArray(); break;
                default: r.Skip(); break;
            }
        }
        r.Depth--;
        if (shape.Any(d => d < 0)) throw new WeightFileException(file, $"tensor '{name}' has a negative dimension");
        long count = shape.Aggregate(1L, (a, d) => a * d);
        int size = dtype switch
        {
            "f32" => 4,
            "f16" => 2,
            _ => throw new WeightFileException(file, $"tensor '{name}' has dtype '{dtype}' (known: f32, f16)"),
        };
        if (data is null || data.LongLength != count * size)
            throw new WeightFileException(file, $"tensor '{name}' ({dtype}, shape {GraphOps.Show(shape)}) has {data?.Length ?? 0} data bytes, expected {count * size}");
        var values = new float[count];
        if (size == 4)
            for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(4 * i));
        else
            for (int i = 0; i < values.Length; i++) values[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(2 * i)));
        return new WeightTensor(name, shape, values, size == 2 ? TensorStorageType.Float16 : TensorStorageType.Float32);
    }

    static GraphNode ReadNode(ref MessagePackReader r, MessagePackSecurity security)
    {
        security.DepthStep(ref r);
        string name = "", op = "", output = "";
        string[] inputs = [], weights = [];
        var attrs = new Dictionary<string, int[]>();
        int fields = r.ReadMapHeader();
        for (int f = 0; f < fields; f++)
        {
            switch (r.ReadString())
            {
                case "name": name = r.ReadString() ?? ""; break;
                case "op": op = r.ReadString() ?? ""; break;
                case "inputs": inputs = ReadStrings(ref r); break;
                case "output": output = r.ReadString() ?? ""; break;
                case "weights": weights = ReadStrings(ref r); break;
                case "attrs":
                {
                    int n = r.ReadMapHeader();
                    for (int k = 0; k < n; k++)
                    {
                        string key = r.ReadString() ?? "";
                        attrs[key] = ReadInts(ref r, security);
                    }
                    break;
                }
                default: r.Skip(); break;
            }
        }
        r.Depth--;
        return new GraphNode(name, op, inputs, output, weights, attrs);
    }
}
