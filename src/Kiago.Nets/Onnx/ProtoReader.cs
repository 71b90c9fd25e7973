using System.Buffers.Binary;
using System.Text;

namespace Kiago.Nets.Onnx;

/// <summary>Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A minimal protobuf wire-format reader over one in-memory file. A sub-message is read by a child reader over the
/// same bytes, so every error reports an absolute offset in the file. Unknown fields are skipped, as protobuf requires.
/// </summary>
internal sealed class ProtoReader
{
    readonly byte[] data;
    readonly int end;
    int position;

    public ProtoReader(byte[] data, string file) : this(data, file, 0, data.Length) { }

    ProtoReader(byte[] data, string file, int start, int end)
    {
        this.data = data;
        File = file;
        position = start;
        this.end = end;
    }

    public string File { get; }

    /// <summary>Absolute offset of the next byte to read.</summary>
    public int Position => position;

    public OnnxFormatException Error(string problem) => new(File, position, problem);

    public OnnxFormatException ErrorAt(long offset, string problem) => new(File, offset, problem);

    /// <summary>Reads the next field key; false at the end of this message.</summary>
    public bool Next(out int field, out WireType wireType)
    {
        if (position >= end)
        {
            field = 0;
            wireType = default;
            return false;
        }
        int keyOffset = position;
        ulong key = ReadVarint();
        field = (int)(key >> 3);
        wireType = (WireType)(key & 7);
        if (field <= 0 || key >> 3 > int.MaxValue)
            throw ErrorAt(keyOffset, $"invalid field number {key >> 3} (not a protobuf message, or corrupted)");
        if (wireType is WireType.StartGroup or WireType.EndGroup || (int)wireType > 5)
            throw ErrorAt(keyOffset, $"field {field} has unsupported wire type {(int)wireType} (not a protobuf message, or corrupted)");
        return true;
    }

    public ulong ReadVarint()
    {
        int start = position;
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= end) throw ErrorAt(start, "truncated varint");
            byte b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw ErrorAt(start, "varint longer than 10 bytes");
    }

    public long ReadInt64() => (long)ReadVarint();

    public int ReadInt32() => (int)(long)ReadVarint();

    public uint ReadFixed32()
    {
        Require(4, "fixed32");
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(position, 4));
        position += 4;
        return value;
    }

    public ulong ReadFixed64()
    {
        Require(8, "fixed64");
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(position, 8));
        position += 8;
        return value;
    }

    public float ReadFloat() => BitConverter.Int32BitsToSingle((int)ReadFixed32());

    /// <summary>Reads a length prefix and returns the absolute [start, start + length) range it covers.</summary>
    public (int Start, int Length) ReadLengthDelimited()
    {
        int prefixOffset = position;
        ulong length = ReadVarint();
        if (length > (ulong)(end - position))
            throw ErrorAt(prefixOffset, $"length {length} runs past the end of the enclosing message (file truncated or corrupted)");
        int start = position;
        position += (int)length;
        return (start, (int)length);
    }

    /// <summary>Bytes at an absolute offset (from <see cref="ReadLengthDelimited"/>).</summary>
    public ReadOnlySpan<byte> Slice(int start, int length) => data.AsSpan(start, length);

    public ProtoReader ReadMessage()
    {
        var (start, length) = ReadLengthDelimited();
        return new ProtoReader(data, File, start, start + length);
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        var (start, length) = ReadLengthDelimited();
        return data.AsSpan(start, length);
    }

    public string ReadString()
    {
        var (start, length) = ReadLengthDelimited();
        try
        {
            return new UTF8Encoding(false, true).GetString(data, start, length);
        }
        catch (DecoderFallbackException)
        {
            throw ErrorAt(start, "string field is not valid UTF-8");
        }
    }

    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: Require(8, "fixed64"); position += 8; break;
            case WireType.Fixed32: Require(4, "fixed32"); position += 4; break;
            case WireType.LengthDelimited: ReadLengthDelimited(); break;
            default: throw Error($"cannot skip wire type {(int)wireType}");
        }
    }

    /// <summary>A repeated varint field, packed (one length-delimited run) or not (one value per key).</summary>
    public void ReadRepeatedInt64(WireType wireType, List<long> into)
    {
        if (wireType == WireType.Varint)
        {
            into.Add(ReadInt64());
            return;
        }
        Expect(wireType, WireType.LengthDelimited, "repeated varint");
        var sub = ReadMessage();
        while (sub.position < sub.end) into.Add(sub.ReadInt64());
    }

    public void ReadRepeatedFloat(WireType wireType, List<float> into)
    {
        if (wireType == WireType.Fixed32)
        {
            into.Add(ReadFloat());
            return;
        }
        Expect(wireType, WireType.LengthDelimited, "repeated float");
        var sub = ReadMessage();
        if ((sub.end - sub.position) % 4 != 0) throw sub.Error("packed float run is not a multiple of 4 bytes");
        while (sub.position < sub.end) into.Add(sub.ReadFloat());
    }

    public void ReadRepeatedDouble(WireType wireType, List<double> into)
    {
        if (wireType == WireType.Fixed64)
        {
            into.Add(BitConverter.UInt64BitsToDouble(ReadFixed64()));
            return;
        }
        Expect(wireType, WireType.LengthDelimited, "repeated double");
        var sub = ReadMessage();
        if ((sub.end - sub.position) % 8 != 0) throw sub.Error("packed double run is not a multiple of 8 bytes");
        while (sub.position < sub.end) into.Add(BitConverter.UInt64BitsToDouble(sub.ReadFixed64()));
    }

    public void Expect(WireType actual, WireType expected, string what)
    {
        if (actual != expected)
            throw Error($"{what}: wire type {(int)actual}, expected {(int)expected} (not ONNX, or corrupted)");
    }

    void Require(int count, string what)
    {
        if (end - position < count) throw Error($"truncated {what}");
    }
}
