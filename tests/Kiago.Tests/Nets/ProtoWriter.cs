using System.Buffers.Binary;

namespace Kiago.Tests.Nets;

/// <summary>Builds protobuf bytes by hand, for reader tests of encodings our fixtures do not contain.</summary>
internal sealed class ProtoWriter
{
    readonly List<byte> bytes = [];

    public byte[] ToArray() => [.. bytes];

    public ProtoWriter Varint(int field, long value) { Key(field, 0); WriteVarint((ulong)value); return this; }

    public ProtoWriter Bytes(int field, byte[] value) { Key(field, 2); WriteVarint((ulong)value.Length); bytes.AddRange(value); return this; }

    public ProtoWriter String(int field, string value) => Bytes(field, System.Text.Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    public ProtoWriter Fixed32(int field, float value)
    {
        Key(field, 5);
        var b = new byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        bytes.AddRange(b);
        return this;
    }

    public ProtoWriter PackedVarints(int field, IEnumerable<long> values)
    {
        var inner = new ProtoWriter();
        foreach (var v in values) inner.WriteVarint((ulong)v);
        return Bytes(field, inner.ToArray());
    }

    public ProtoWriter PackedFloats(int field, IEnumerable<float> values)
    {
        var list = new List<byte>();
        foreach (var v in values)
        {
            var b = new byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(b, v);
            list.AddRange(b);
        }
        return Bytes(field, [.. list]);
    }

    void Key(int field, int wire) => WriteVarint((ulong)(field << 3 | wire));

    void WriteVarint(ulong v)
    {
        while (v >= 0x80) { bytes.Add((byte)(v | 0x80)); v >>= 7; }
        bytes.Add((byte)v);
    }
}
