using System.Buffers;
using System.Security.Cryptography;
using MessagePack;

namespace Kiago.Nets.Weights;

/// <summary>
/// The envelope shared by .kgw and .kgu files: <c>[magic, version, sha256(payload), payload]</c> in MessagePack, read
/// and written here once so both formats check the header, the version and the checksum with the same messages, and
/// both write atomically with the same error mapping.
/// </summary>
internal static class WeightEnvelope
{
    /// <summary>What one file format puts in the envelope and says when a file is not of that format.</summary>
    public sealed record Format(string Magic, int Version, string NotThisFormat, Func<int, string> VersionAdvice);

    public static byte[] Wrap(Format format, byte[] payload)
    {
        var buffer = new ArrayBufferWriter<byte>(payload.Length + 64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(4);
        writer.Write(format.Magic);
        writer.Write(format.Version);
        writer.Write(SHA256.HashData(payload));
        writer.Write(payload);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The checked payload of <paramref name="bytes"/>; <paramref name="hint"/> is appended to "not this format"
    /// and header errors (e.g. that the file looks like ONNX).</summary>
    public static byte[] Unwrap(Format format, byte[] bytes, string file, string hint = "")
    {
        var reader = new MessagePackReader(bytes);
        byte[] payload, checksum;
        try
        {
            if (bytes.Length == 0) throw new WeightFileException(file, "file is empty");
            if (reader.NextMessagePackType != MessagePackType.Array || reader.ReadArrayHeader() != 4 ||
                reader.NextMessagePackType != MessagePackType.String || reader.ReadString() != format.Magic)
                throw new WeightFileException(file, $"{format.NotThisFormat}: the '{format.Magic}' header is missing{hint}");
            if (reader.NextMessagePackType != MessagePackType.Integer)
                throw new WeightFileException(file, "corrupted header: format version is not an integer");
            int version = reader.ReadInt32();
            if (version != format.Version)
                throw new WeightFileException(file, $"format version {version}, but this Kiago reads version {format.Version}" +
                    format.VersionAdvice(version));
            checksum = ReadBin(ref reader) ?? throw new WeightFileException(file, "corrupted header: checksum missing");
            if (checksum.Length != 32) throw new WeightFileException(file, "corrupted header: checksum is not 32 bytes");
            payload = ReadBin(ref reader) ?? throw new WeightFileException(file, "corrupted header: payload missing");
        }
        catch (EndOfStreamException)
        {
            throw new WeightFileException(file, $"file is truncated ({bytes.Length} bytes; it ends inside the header or the payload)");
        }
        catch (MessagePackSerializationException e)
        {
            throw new WeightFileException(file, $"corrupted header: {e.Message}{hint}");
        }
        if (!reader.End)
            throw new WeightFileException(file, $"corrupted: {bytes.Length - reader.Consumed} unexpected bytes after the payload");
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(checksum))
            throw new WeightFileException(file, "checksum mismatch: the payload is corrupted (SHA-256 differs from the header)");
        return payload;
    }

    /// <summary>A file's bytes; a missing or unreadable file is a <see cref="WeightFileException"/> naming it.</summary>
    public static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new WeightFileException(path, "file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightFileException(path, $"cannot read: {e.Message}");
        }
    }

    /// <summary>Writes atomically (temporary file, then rename); a failure leaves the target untouched and names it.</summary>
    public static void WriteFile(string path, byte[] bytes)
    {
        string full = Path.GetFullPath(path);
        string temp = full + $".tmp{Environment.ProcessId}";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { /* best effort: the target was never touched */ }
            throw new WeightFileException(path, $"cannot write: {e.Message}");
        }
    }

    static byte[]? ReadBin(ref MessagePackReader reader) =>
        reader.NextMessagePackType == MessagePackType.Binary ? reader.ReadBytes()?.ToArray() : null;
}
