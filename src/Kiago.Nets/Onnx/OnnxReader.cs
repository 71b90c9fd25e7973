using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Kiago.Nets.Onnx;

/// <summary>
/// Reads ONNX ModelProto files (and bare TensorProto files such as test_data_set_N/input_0.pb) with our own
/// wire-format reader: the few messages the importer needs, decoded straight into plain records. Field numbers are
/// those of onnx/onnx.proto (IR version 3 and later).
/// </summary>
public static class OnnxReader
{
    public static OnnxModel ReadModel(string path) => ReadModel(ReadAll(path), path);

    public static OnnxModel ReadModel(byte[] bytes, string file)
    {
        var reader = new ProtoReader(bytes, file);
        long irVersion = 0;
        string producer = "", producerVersion = "";
        var opsets = new Dictionary<string, long>();
        OnnxGraph? graph = null;
        while (reader.Next(out int field, out var wire))
        {
            switch (field)
            {
                case 1: reader.Expect(wire, WireType.Varint, "ModelProto.ir_version"); irVersion = reader.ReadInt64(); break;
                case 2: reader.Expect(wire, WireType.LengthDelimited, "ModelProto.producer_name"); producer = reader.ReadString(); break;
                case 3: reader.Expect(wire, WireType.LengthDelimited, "ModelProto.producer_version"); producerVersion = reader.ReadString(); break;
                case 7: reader.Expect(wire, WireType.LengthDelimited, "ModelProto.graph"); graph = ReadGraph(reader.ReadMessage()); break;
                case 8:
                    reader.Expect(wire, WireType.LengthDelimited, "ModelProto.opset_import");
                    var (domain, version) = ReadOpset(reader.ReadMessage());
                    opsets[domain] = version;
                    break;
                default: reader.Skip(wire); break;
            }
        }
        if (graph is null)
            throw new OnnxFormatException(file, 0, "no graph found: not an ONNX model (or an empty/truncated file)");
        if (irVersion <= 0)
            throw new OnnxFormatException(file, 0, "ModelProto.ir_version missing: not an ONNX model");
        return new OnnxModel(file, irVersion, producer, producerVersion, opsets, graph);
    }

    /// <summary>Reads one serialised TensorProto (the ONNX test-data .pb format).</summary>
    public static OnnxTensor ReadTensorFile(string path)
    {
        var bytes = ReadAll(path);
        var tensor = ReadTensor(new ProtoReader(bytes, path));
        if (tensor.Floats is null && tensor.Int64s is null)
            throw new OnnxFormatException(path, 0, "not a TensorProto with data");
        return tensor;
    }

    static byte[] ReadAll(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxFormatException(path, 0, $"cannot read: {e.Message}");
        }
    }

    static (string, long) ReadOpset(ProtoReader r)
    {
        string domain = "";
        long version = 0;
        while (r.Next(out int field, out var wire))
        {
            if (field == 1 && wire == WireType.LengthDelimited) domain = r.ReadString();
            else if (field == 2 && wire == WireType.Varint) version = r.ReadInt64();
            else r.Skip(wire);
        }
        return (domain, version);
    }

    static OnnxGraph ReadGraph(ProtoReader r)
    {
        string name = "";
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        while (r.Next(out int field, out var wire))
        {
            switch (field)
            {
                case 1: r.Expect(wire, WireType.LengthDelimited, "GraphProto.node"); nodes.Add(ReadNode(r.ReadMessage())); break;
                case 2: r.Expect(wire, WireType.LengthDelimited, "GraphProto.name"); name = r.ReadString(); break;
                case 5: r.Expect(wire, WireType.LengthDelimited, "GraphProto.initializer"); initializers.Add(ReadTensor(r.ReadMessage())); break;
                case 15: throw r.Error("sparse initializers are not supported; export dense weights");
                case 11: r.Expect(wire, WireType.LengthDelimited, "GraphProto.input"); inputs.Add(ReadValueInfo(r.ReadMessage())); break;
                case 12: r.Expect(wire, WireType.LengthDelimited, "GraphProto.output"); outputs.Add(ReadValueInfo(r.ReadMessage())); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxGraph(name, nodes, initializers, inputs, outputs);
    }

    static OnnxNode ReadNode(ProtoReader r)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new List<OnnxAttribute>();
        string name = "", opType = "", domain = "";
        while (r.Next(out int field, out var wire))
        {
            switch (field)
            {
                case 1: r.Expect(wire, WireType.LengthDelimited, "NodeProto.input"); inputs.Add(r.ReadString()); break;
                case 2: r.Expect(wire, WireType.LengthDelimited, "NodeProto.output"); outputs.Add(r.ReadString()); break;
                case 3: r.Expect(wire, WireType.LengthDelimited, "NodeProto.name"); name = r.ReadString(); break;
                case 4: r.Expect(wire, WireType.LengthDelimited, "NodeProto.op_type"); opType = r.ReadString(); break;
                case 5: r.Expect(wire, WireType.LengthDelimited, "NodeProto.attribute"); attributes.Add(ReadAttribute(r.ReadMessage())); break;
                case 7: r.Expect(wire, WireType.LengthDelimited, "NodeProto.domain"); domain = r.ReadString(); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxNode(name, opType, domain, [.. inputs], [.. outputs], attributes);
    }

    static OnnxAttribute ReadAttribute(ProtoReader r)
    {
        string name = "";
        int type = 0;
        float f = 0;
        long i = 0;
        string? s = null;
        OnnxTensor? t = null;
        var floats = new List<float>();
        var ints = new List<long>();
        var strings = new List<string>();
        while (r.Next(out int field, out var wire))
        {
            switch (field)
            {
                case 1: r.Expect(wire, WireType.LengthDelimited, "AttributeProto.name"); name = r.ReadString(); break;
                case 20: r.Expect(wire, WireType.Varint, "AttributeProto.type"); type = r.ReadInt32(); break;
                case 2: r.Expect(wire, WireType.Fixed32, "AttributeProto.f"); f = r.ReadFloat(); break;
                case 3: r.Expect(wire, WireType.Varint, "AttributeProto.i"); i = r.ReadInt64(); break;
                case 4: r.Expect(wire, WireType.LengthDelimited, "AttributeProto.s"); s = r.ReadString(); break;
                case 5: r.Expect(wire, WireType.LengthDelimited, "AttributeProto.t"); t = ReadTensor(r.ReadMessage()); break;
                case 7: r.ReadRepeatedFloat(wire, floats); break;
                case 8: r.ReadRepeatedInt64(wire, ints); break;
                case 9: r.Expect(wire, WireType.LengthDelimited, "AttributeProto.strings"); strings.Add(r.ReadString()); break;
                default: r.Skip(wire); break;
            }
        }
        if (type == 0)
        {
            // IR version 1-2 files leave `type` unset; infer it from the field that is present.
            type = t is not null ? OnnxAttribute.TensorType : s is not null ? OnnxAttribute.StringType
                : ints.Count > 0 ? OnnxAttribute.IntsType : floats.Count > 0 ? OnnxAttribute.FloatsType
                : strings.Count > 0 ? OnnxAttribute.StringsType : 0;
        }
        return new OnnxAttribute(name, type, f, i, s, t, [.. floats], [.. ints], [.. strings]);
    }

    static OnnxValueInfo ReadValueInfo(ProtoReader r)
    {
        string name = "";
        var elementType = OnnxDataType.Undefined;
        OnnxDim[]? shape = null;
        while (r.Next(out int field, out var wire))
        {
            if (field == 1 && wire == WireType.LengthDelimited) name = r.ReadString();
            else if (field == 2 && wire == WireType.LengthDelimited)
            {
                var type = r.ReadMessage();
                while (type.Next(out int tf, out var tw))
                {
                    if (tf == 1 && tw == WireType.LengthDelimited) (elementType, shape) = ReadTensorType(type.ReadMessage());
                    else type.Skip(tw);
                }
            }
            else r.Skip(wire);
        }
        return new OnnxValueInfo(name, elementType, shape);
    }

    static (OnnxDataType, OnnxDim[]?) ReadTensorType(ProtoReader r)
    {
        var elementType = OnnxDataType.Undefined;
        OnnxDim[]? shape = null;
        while (r.Next(out int field, out var wire))
        {
            if (field == 1 && wire == WireType.Varint) elementType = (OnnxDataType)r.ReadInt32();
            else if (field == 2 && wire == WireType.LengthDelimited)
            {
                var dims = new List<OnnxDim>();
                var s = r.ReadMessage();
                while (s.Next(out int sf, out var sw))
                {
                    if (sf != 1 || sw != WireType.LengthDelimited) { s.Skip(sw); continue; }
                    var d = s.ReadMessage();
                    long? value = null;
                    string? symbol = null;
                    while (d.Next(out int df, out var dw))
                    {
                        if (df == 1 && dw == WireType.Varint) value = d.ReadInt64();
                        else if (df == 2 && dw == WireType.LengthDelimited) symbol = d.ReadString();
                        else d.Skip(dw);
                    }
                    dims.Add(new OnnxDim(value, symbol));
                }
                shape = [.. dims];
            }
            else r.Skip(wire);
        }
        return (elementType, shape);
    }

    static OnnxTensor ReadTensor(ProtoReader r)
    {
        long start = r.Position;
        var dims = new List<long>();
        var dataType = OnnxDataType.Undefined;
        string name = "";
        int rawStart = -1, rawLength = 0;
        var floatData = new List<float>();
        var int32Data = new List<long>();
        var int64Data = new List<long>();
        var doubleData = new List<double>();
        var uint64Data = new List<long>();
        bool external = false;
        while (r.Next(out int field, out var wire))
        {
            switch (field)
            {
                case 1: r.ReadRepeatedInt64(wire, dims); break;
                case 2: r.Expect(wire, WireType.Varint, "TensorProto.data_type"); dataType = (OnnxDataType)r.ReadInt32(); break;
                case 4: r.ReadRepeatedFloat(wire, floatData); break;
                case 5: r.ReadRepeatedInt64(wire, int32Data); break;
                case 7: r.ReadRepeatedInt64(wire, int64Data); break;
                case 8: r.Expect(wire, WireType.LengthDelimited, "TensorProto.name"); name = r.ReadString(); break;
                case 9: r.Expect(wire, WireType.LengthDelimited, "TensorProto.raw_data"); (rawStart, rawLength) = r.ReadLengthDelimited(); break;
                case 10: r.ReadRepeatedDouble(wire, doubleData); break;
                case 11: r.ReadRepeatedInt64(wire, uint64Data); break;
                case 13: r.Skip(wire); external = true; break;
                case 14: r.Expect(wire, WireType.Varint, "TensorProto.data_location"); external |= r.ReadInt64() == 1; break;
                case 3: throw r.ErrorAt(start, $"tensor '{name}' is segmented; segmented tensors are not supported");
                default: r.Skip(wire); break;
            }
        }
        string label = name.Length > 0 ? $"tensor '{name}'" : "tensor";
        if (external)
            throw r.ErrorAt(start, $"{label} keeps its data in an external file; re-export with the weights inside the .onnx file");
        foreach (long d in dims)
            if (d < 0) throw r.ErrorAt(start, $"{label} has a negative dimension {d}");
        long count = dims.Aggregate(1L, (a, d) => a * d);
        if (count > int.MaxValue) throw r.ErrorAt(start, $"{label} has {count} elements, too many");
        var raw = rawStart >= 0 ? r.Slice(rawStart, rawLength) : default;
        float[]? floats = null;
        long[]? ints = null;

        void CheckCount(long have, string source)
        {
            if (have != count)
                throw r.ErrorAt(start, $"{label} ({dataType}, shape [{string.Join(",", dims)}]) holds {have} values in {source}, expected {count}");
        }

        int RawCount(int elementSize)
        {
            if (rawLength % elementSize != 0)
                throw r.ErrorAt(rawStart, $"{label}: raw_data has {rawLength} bytes, not a multiple of {elementSize}");
            return rawLength / elementSize;
        }

        switch (dataType)
        {
            case OnnxDataType.Float:
                if (rawStart >= 0)
                {
                    CheckCount(RawCount(4), "raw_data");
                    if (BitConverter.IsLittleEndian) floats = MemoryMarshal.Cast<byte, float>(raw).ToArray();
                    else
                    {
                        floats = new float[count];
                        for (int k = 0; k < count; k++) floats[k] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * k)..]);
                    }
                }
                else { CheckCount(floatData.Count, "float_data"); floats = [.. floatData]; }
                break;
            case OnnxDataType.Float16:
            case OnnxDataType.BFloat16:
                floats = new float[count];
                bool bf = dataType == OnnxDataType.BFloat16;
                if (rawStart >= 0)
                {
                    CheckCount(RawCount(2), "raw_data");
                    for (int k = 0; k < count; k++) floats[k] = HalfBits(BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * k)..]), bf);
                }
                else
                {
                    // float16/bfloat16 typed data is stored as the 16-bit patterns in int32_data.
                    CheckCount(int32Data.Count, "int32_data");
                    for (int k = 0; k < count; k++) floats[k] = HalfBits((ushort)int32Data[k], bf);
                }
                break;
            case OnnxDataType.Double:
                floats = new float[count];
                if (rawStart >= 0)
                {
                    CheckCount(RawCount(8), "raw_data");
                    for (int k = 0; k < count; k++) floats[k] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * k)..]);
                }
                else { CheckCount(doubleData.Count, "double_data"); for (int k = 0; k < count; k++) floats[k] = (float)doubleData[k]; }
                break;
            case OnnxDataType.Int64:
                if (rawStart >= 0)
                {
                    CheckCount(RawCount(8), "raw_data");
                    ints = new long[count];
                    for (int k = 0; k < count; k++) ints[k] = BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * k)..]);
                }
                else { CheckCount(int64Data.Count, "int64_data"); ints = [.. int64Data]; }
                break;
            case OnnxDataType.Int32:
            case OnnxDataType.Int16:
            case OnnxDataType.Int8:
            case OnnxDataType.UInt8:
            case OnnxDataType.UInt16:
            case OnnxDataType.Bool:
                if (rawStart >= 0)
                {
                    int size = dataType switch { OnnxDataType.Int32 => 4, OnnxDataType.Int16 or OnnxDataType.UInt16 => 2, _ => 1 };
                    CheckCount(RawCount(size), "raw_data");
                    ints = new long[count];
                    for (int k = 0; k < count; k++)
                    {
                        var s = raw[(size * k)..];
                        ints[k] = dataType switch
                        {
                            OnnxDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(s),
                            OnnxDataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(s),
                            OnnxDataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(s),
                            OnnxDataType.Int8 => (sbyte)s[0],
                            _ => s[0],
                        };
                    }
                }
                else { CheckCount(int32Data.Count, "int32_data"); ints = [.. int32Data]; }
                break;
            case OnnxDataType.Undefined:
                break; // a tensor without data (e.g. an empty attribute); callers reject it where data is needed
            default:
                throw r.ErrorAt(start, $"{label} has data type {dataType}, which Kiago does not read (float32, float16, bfloat16, double, int8-64, bool are read)");
        }
        return new OnnxTensor(name, dataType, [.. dims], floats, ints, start);
    }

    static float HalfBits(ushort bits, bool bfloat16) =>
        bfloat16 ? BitConverter.Int32BitsToSingle(bits << 16) : (float)BitConverter.UInt16BitsToHalf(bits);
}
