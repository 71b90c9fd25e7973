using System.Buffers;
using System.Buffers.Binary;
using Kiago.Nets.Weights;
using MessagePack;

namespace Kiago.Nets.Uncertainty;

/// <summary>
/// Reads and writes .kgu uncertainty files (docs/weight-format.md, "Uncertainty files"): the same envelope as .kgw,
/// <c>["KIAGO-KGU", version, sha256(payload), payload]</c>, payload a MessagePack map: base_sha256 (hex SHA-256 of
/// the flagship .kgw file it was calibrated for), members (array of complete .kgw images, each with its own
/// checksum), head, domain, card. The file sits beside its flagship: weights/tc-resnet18.kgw → weights/tc-resnet18.kgu.
/// </summary>
public static class UncertaintyFile
{
    public const string Magic = "KIAGO-KGU";
    public const int FormatVersion = 1;
    public const string Extension = ".kgu";

    static readonly WeightEnvelope.Format Envelope = new(Magic, FormatVersion, "not a Kiago uncertainty file (.kgu)",
        _ => "");

    /// <summary>weights/x.kgw → weights/x.kgu.</summary>
    public static string SiblingOf(string kgwPath) => Path.ChangeExtension(kgwPath, Extension);

    // ---- write ----------------------------------------------------------------------------------------------------

    public static byte[] Serialize(UncertaintyData data)
    {
        data.Head.Validate("<uncertainty>");
        data.Domain.Validate("<uncertainty>");
        if (data.Members.Count + 1 != data.Head.Outputs)
            throw new ArgumentException($"{data.Members.Count} members but {data.Head.Outputs} mean weights (members + flagship)");
        WeightFile.ValidateCard(data.CardJson, "<uncertainty>");
        var payloadBuffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(payloadBuffer);
        w.WriteMapHeader(5);
        w.Write("base_sha256"); w.Write(data.BaseSha256);
        w.Write("members");
        w.WriteArrayHeader(data.Members.Count);
        foreach (var m in data.Members) w.Write(WeightFile.Serialize(m));
        w.Write("head");
        w.WriteMapHeader(6);
        w.Write("mean_weights"); w.WriteArrayHeader(data.Head.MeanWeights.Length); foreach (var v in data.Head.MeanWeights) w.Write(v);
        w.Write("sigma_scale"); w.Write(data.Head.SigmaScale);
        w.Write("sigma_floor"); w.Write(data.Head.SigmaFloor);
        w.Write("interval95_factor"); w.Write(data.Head.Interval95Factor);
        w.Write("level_center"); w.Write(data.Head.LevelCenter);
        w.Write("level_weight"); w.Write(data.Head.LevelWeight);
        w.Write("domain");
        w.WriteMapHeader(4);
        w.Write("offsets"); w.Write(Bytes(data.Domain.Offsets));
        w.Write("elements"); w.Write(data.Domain.Elements);
        w.Write("fractions"); w.Write(Bytes(data.Domain.Fractions));
        w.Write("reference_distance"); w.Write(data.Domain.ReferenceDistance);
        w.Write("card"); w.Write(data.CardJson);
        w.Flush();
        return WeightEnvelope.Wrap(Envelope, payloadBuffer.WrittenSpan.ToArray());
    }

    /// <summary>Writes atomically (temporary file, then rename).</summary>
    public static void Write(string path, UncertaintyData data) => WeightEnvelope.WriteFile(path, Serialize(data));

    static byte[] Bytes(int[] values)
    {
        var b = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4 * i), values[i]);
        return b;
    }

    static byte[] Bytes(float[] values)
    {
        var b = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), values[i]);
        return b;
    }

    // ---- read -----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Reads and checks a .kgu file; when <paramref name="baseSha256"/> is given, refuses a file calibrated for a
    /// different flagship (<see cref="WeightFileException"/> naming the file and both checksums).
    /// </summary>
    public static UncertaintyData Read(string path, string? baseSha256 = null, string? basePath = null)
    {
        var data = Deserialize(WeightEnvelope.ReadFile(path), path);
        if (baseSha256 is not null && !string.Equals(baseSha256, data.BaseSha256, StringComparison.OrdinalIgnoreCase))
            throw new WeightFileException(path, $"checksum mismatch: calibrated for a model file with SHA-256 {data.BaseSha256}, " +
                $"but {basePath ?? "the model"} has SHA-256 {baseSha256} (the model was replaced: recalibrate with 'kiago calibrate', or remove {Path.GetFileName(path)})");
        return data;
    }

    public static UncertaintyData Deserialize(byte[] bytes, string file)
    {
        byte[] payload = WeightEnvelope.Unwrap(Envelope, bytes, file);
        try
        {
            return ReadPayload(payload, file);
        }
        catch (Exception e) when (e is EndOfStreamException or MessagePackSerializationException or InvalidOperationException or OverflowException)
        {
            throw new WeightFileException(file, $"payload is malformed although its checksum matches: {e.Message}");
        }
    }

    static UncertaintyData ReadPayload(byte[] payload, string file)
    {
        var r = new MessagePackReader(payload);
        string? baseSha = null, card = null;
        var members = new List<WeightModel>();
        UncertaintyHead? head = null;
        DomainData? domain = null;
        int fields = r.ReadMapHeader();
        for (int f = 0; f < fields; f++)
        {
            switch (r.ReadString())
            {
                case "base_sha256": baseSha = r.ReadString(); break;
                case "members":
                {
                    int n = r.ReadArrayHeader();
                    for (int k = 0; k < n; k++)
                    {
                        var image = r.ReadBytes()?.ToArray() ?? throw new WeightFileException(file, $"member {k} is not binary");
                        members.Add(WeightFile.Deserialize(image, $"{file} (member {k})"));
                    }
                    break;
                }
                case "head":
                {
                    float[]? weights = null;
                    float scale = float.NaN, floor = float.NaN, factor = float.NaN, center = 0, levelWeight = 0; // level: absent = off
                    int n = r.ReadMapHeader();
                    for (int k = 0; k < n; k++)
                    {
                        switch (r.ReadString())
                        {
                            case "mean_weights":
                                weights = new float[r.ReadArrayHeader()];
                                for (int i = 0; i < weights.Length; i++) weights[i] = r.ReadSingle();
                                break;
                            case "sigma_scale": scale = r.ReadSingle(); break;
                            case "sigma_floor": floor = r.ReadSingle(); break;
                            case "interval95_factor": factor = r.ReadSingle(); break;
                            case "level_center": center = r.ReadSingle(); break;
                            case "level_weight": levelWeight = r.ReadSingle(); break;
                            default: r.Skip(); break;
                        }
                    }
                    head = new UncertaintyHead(weights ?? throw new WeightFileException(file, "head lacks mean_weights"), scale, floor, factor, center, levelWeight);
                    break;
                }
                case "domain":
                {
                    byte[]? offsets = null, elements = null, fractions = null;
                    float reference = float.NaN;
                    int n = r.ReadMapHeader();
                    for (int k = 0; k < n; k++)
                    {
                        switch (r.ReadString())
                        {
                            case "offsets": offsets = r.ReadBytes()?.ToArray(); break;
                            case "elements": elements = r.ReadBytes()?.ToArray(); break;
                            case "fractions": fractions = r.ReadBytes()?.ToArray(); break;
                            case "reference_distance": reference = r.ReadSingle(); break;
                            default: r.Skip(); break;
                        }
                    }
                    if (offsets is null || elements is null || fractions is null || offsets.Length % 4 != 0 || fractions.Length % 4 != 0)
                        throw new WeightFileException(file, "domain lacks offsets, elements or fractions (or they are not 4-byte arrays)");
                    var off = new int[offsets.Length / 4];
                    for (int i = 0; i < off.Length; i++) off[i] = BinaryPrimitives.ReadInt32LittleEndian(offsets.AsSpan(4 * i));
                    var fr = new float[fractions.Length / 4];
                    for (int i = 0; i < fr.Length; i++) fr[i] = BinaryPrimitives.ReadSingleLittleEndian(fractions.AsSpan(4 * i));
                    domain = new DomainData(off, elements, fr, reference);
                    break;
                }
                case "card": card = r.ReadString(); break;
                default: r.Skip(); break;
            }
        }
        if (baseSha is null || head is null || domain is null)
            throw new WeightFileException(file, "payload lacks one of: base_sha256, head, domain");
        head.Validate(file);
        domain.Validate(file);
        if (members.Count + 1 != head.Outputs)
            throw new WeightFileException(file, $"{members.Count} members but {head.Outputs} mean weights (expected members + 1 for the flagship)");
        card ??= "{}";
        WeightFile.ValidateCard(card, file);
        return new UncertaintyData(baseSha, members, head, domain, card);
    }
}
