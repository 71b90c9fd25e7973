using System.Security.Cryptography;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;
using Kiago.Tests.Nets;

namespace Kiago.Tests.Hardening;

/// <summary>Small .kgw files for the hostile-input tests, built from the committed ONNX fixtures.</summary>
internal static class TestModels
{
    public static WeightModel Model(ModelKind kind, string card = "{}")
    {
        string onnx = kind == ModelKind.TcResNet ? "tiny_resnet_op13.onnx" : "tiny_mlp_op13.onnx";
        var graph = OnnxImporter.Import(Path.Combine(NetsFixtures.Folder, onnx));
        var (name, unit) = ModelKinds.DefaultOutput(kind)!.Value;
        return new WeightModel(kind, [.. Featuriser.Layout(kind).Accepted], name, unit, graph, card, "test");
    }

    public static string Write(string path, WeightModel model)
    {
        WeightFile.Write(path, model);
        return path;
    }

    public static string Write(string path, ModelKind kind, string card = "{}") => Write(path, Model(kind, card));

    /// <summary>
    /// A .kgw whose first weight is NaN but whose checksum is valid: written with a finite sentinel, which is then
    /// replaced in the payload and the SHA-256 in the header recomputed (what a buggy exporter would produce).
    /// </summary>
    public static string WriteWithNaNWeight(string path, ModelKind kind)
    {
        const float sentinel = 1234.5678f;
        var model = Model(kind);
        var first = model.Graph.Tensors.Values.First();
        var data = (float[])first.Data.Clone();
        data[0] = sentinel;
        var tensors = model.Graph.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        tensors[first.Name] = first with { Data = data };
        var bytes = WeightFile.Serialize(model with { Graph = model.Graph with { Tensors = tensors } });
        File.WriteAllBytes(path, PatchPayload(bytes, BitConverter.GetBytes(sentinel), BitConverter.GetBytes(float.NaN)));
        return path;
    }

    /// <summary>A .kgw whose model card's element_frequencies are all zero, checksum valid (Write refuses to make one).</summary>
    public static string WriteWithZeroFrequencies(string path, ModelKind kind)
    {
        string card = "{\"element_frequencies\":[7" + string.Concat(Enumerable.Repeat(",0", 117)) + "]}";
        var bytes = WeightFile.Serialize(Model(kind, card));
        File.WriteAllBytes(path, PatchPayload(bytes, "[7,"u8.ToArray(), "[0,"u8.ToArray()));
        return path;
    }

    /// <summary>Replaces the first <paramref name="find"/> in the payload by <paramref name="replace"/> (same length) and re-signs it.</summary>
    static byte[] PatchPayload(byte[] bytes, byte[] find, byte[] replace) => MutatePayload(bytes, payload =>
    {
        int s = payload.IndexOf(find);
        if (s < 0) throw new InvalidOperationException("pattern not found in the payload");
        replace.CopyTo(payload[s..]);
    });

    /// <summary>
    /// Changes the payload of a serialized .kgw in place and re-signs it (valid checksum), so a reader must cope with
    /// a malformed payload on its own, not only through the checksum.
    /// </summary>
    public static byte[] MutatePayload(byte[] bytes, PayloadMutation mutate)
    {
        var (start, hashAt) = PayloadLocation(bytes);
        mutate(bytes.AsSpan(start));
        SHA256.HashData(bytes.AsSpan(start)).CopyTo(bytes, hashAt);
        return bytes;
    }

    public delegate void PayloadMutation(Span<byte> payload);

    /// <summary>
    /// The payload is the last field and runs to the end of the file; its SHA-256 sits in the header before it (the
    /// header is a few dozen bytes, so the search starts at the front).
    /// </summary>
    public static (int Start, int HashAt) PayloadLocation(byte[] bytes)
    {
        for (int start = 33; start < bytes.Length; start++)
        {
            int at = bytes.AsSpan(0, start).IndexOf(SHA256.HashData(bytes.AsSpan(start)));
            if (at >= 0) return (start, at);
        }
        throw new InvalidOperationException("payload not found");
    }
}
