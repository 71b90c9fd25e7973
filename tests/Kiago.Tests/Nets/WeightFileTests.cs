using Kiago.Nets.Graph;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;

namespace Kiago.Tests.Nets;

public class WeightFileTests
{
    static WeightModel TinyMlp() => new(
        ModelKind.ElemNet, [.. Kiago.Nets.Featurisers.ElemNetLayout.Elements], "ef", "eV/atom",
        OnnxImporter.Import(Path.Combine(NetsFixtures.Folder, "tiny_mlp_op13.onnx")),
        """{"training_data":[{"file":"oqmd.csv","sha256":"00"}],"metrics":{"mae":0.1}}""", "test");

    static string Temp() => Path.Combine(Path.GetTempPath(), $"kiago-{Guid.NewGuid():N}.kgw");

    [Fact]
    public void Round_trip_float32_is_exact()
    {
        var model = TinyMlp();
        var back = WeightFile.Deserialize(WeightFile.Serialize(model), "mem.kgw");
        Assert.Equal(model.Kind, back.Kind);
        Assert.Equal(model.InputElements, back.InputElements);
        Assert.Equal(("ef", "eV/atom"), (back.OutputName, back.OutputUnit));
        Assert.Equal(model.CardJson, back.CardJson);
        Assert.Equal(model.Graph.Nodes.Select(n => (n.Op, n.Output)), back.Graph.Nodes.Select(n => (n.Op, n.Output)));
        foreach (var (name, t) in model.Graph.Tensors)
        {
            Assert.Equal(t.Shape, back.Graph.Tensors[name].Shape);
            Assert.Equal(t.Data, back.Graph.Tensors[name].Data);
            Assert.Equal(TensorStorageType.Float32, back.Graph.Tensors[name].StorageType);
        }
    }

    [Fact]
    public void Round_trip_float16_rounds_each_weight_once_and_halves_the_size()
    {
        var model = TinyMlp();
        var f16 = model.WithStorage(TensorStorageType.Float16);
        var bytes16 = WeightFile.Serialize(f16);
        var back = WeightFile.Deserialize(bytes16, "mem.kgw");
        foreach (var (name, t) in model.Graph.Tensors)
        {
            var loaded = back.Graph.Tensors[name];
            Assert.Equal(TensorStorageType.Float16, loaded.StorageType);
            for (int i = 0; i < t.Data.Length; i++)
            {
                Assert.Equal((float)(Half)t.Data[i], loaded.Data[i]);
                Assert.True(Math.Abs(loaded.Data[i] - t.Data[i]) <= 1e-3 * Math.Abs(t.Data[i]) + 1e-7);
            }
        }
        Assert.True(bytes16.Length < 0.6 * WeightFile.Serialize(model).Length);
    }

    [Fact]
    public void Write_is_atomic_and_readable()
    {
        string path = Temp();
        try
        {
            WeightFile.Write(path, TinyMlp());
            Assert.Equal(ModelKind.ElemNet, WeightFile.Read(path).Kind);
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, Path.GetFileName(path) + ".tmp*"));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Flipped_payload_byte_fails_the_checksum()
    {
        var bytes = WeightFile.Serialize(TinyMlp());
        bytes[bytes.Length / 2] ^= 0x40;
        var e = Assert.Throws<WeightFileException>(() => WeightFile.Deserialize(bytes, "flip.kgw"));
        Assert.StartsWith("flip.kgw: ", e.Message);
        Assert.Contains("checksum mismatch", e.Message);
    }

    [Fact]
    public void Every_flipped_byte_is_caught()
    {
        // Whatever byte is damaged (header, checksum, length prefixes, payload), loading fails with a WeightFileException.
        var good = WeightFile.Serialize(TinyMlp());
        var positions = Enumerable.Range(0, 48).Concat(Enumerable.Range(0, 40).Select(k => good.Length * k / 40)).Concat([good.Length - 1]).Distinct();
        foreach (int p in positions)
        {
            var bytes = (byte[])good.Clone();
            bytes[p] ^= 0x01;
            Assert.Throws<WeightFileException>(() => WeightFile.Deserialize(bytes, "x.kgw"));
        }
    }

    [Fact]
    public void Truncated_file_says_truncated()
    {
        var bytes = WeightFile.Serialize(TinyMlp());
        foreach (int keep in new[] { 1, 12, 60, bytes.Length / 2, bytes.Length - 1 })
        {
            var e = Assert.Throws<WeightFileException>(() => WeightFile.Deserialize(bytes[..keep], "cut.kgw"));
            Assert.Contains("truncated", e.Message);
        }
        var empty = Assert.Throws<WeightFileException>(() => WeightFile.Deserialize([], "empty.kgw"));
        Assert.Contains("empty", empty.Message);
    }

    [Fact]
    public void Wrong_version_is_named()
    {
        var bytes = WeightFile.Serialize(TinyMlp());
        // header: fixarray(4), fixstr "KIAGO-KGW" (1 + 9 bytes), positive fixint version
        Assert.Equal(WeightFile.FormatVersion, bytes[11]);
        bytes[11] = 7;
        var e = Assert.Throws<WeightFileException>(() => WeightFile.Deserialize(bytes, "new.kgw"));
        Assert.Contains("format version 7", e.Message);
        Assert.Contains("reads version 1", e.Message);
    }

    [Fact]
    public void Foreign_files_are_rejected()
    {
        var onnx = File.ReadAllBytes(Path.Combine(NetsFixtures.Folder, "tiny_mlp_op13.onnx"));
        var e = Assert.Throws<WeightFileException>(() => WeightFile.Deserialize(onnx, "model.onnx"));
        Assert.Contains("not a Kiago weight file", e.Message);
        Assert.Contains("kiago convert", e.Message);
        var text = System.Text.Encoding.UTF8.GetBytes("{\"hello\": 1}");
        Assert.Contains("not a Kiago weight file", Assert.Throws<WeightFileException>(() => WeightFile.Deserialize(text, "a.json")).Message);
        var missing = Assert.Throws<WeightFileException>(() => WeightFile.Read("/nonexistent/x.kgw"));
        Assert.Contains("file not found", missing.Message);
    }

    [Fact]
    public void Card_must_be_json_object_with_118_frequencies()
    {
        var model = TinyMlp();
        Assert.Throws<WeightFileException>(() => WeightFile.Serialize(model with { CardJson = "[1,2]" }));
        Assert.Throws<WeightFileException>(() => WeightFile.Serialize(model with { CardJson = "{\"element_frequencies\":[1,2,3]}" }));
        var freq = string.Join(",", Enumerable.Repeat("0.5", 118));
        WeightFile.Serialize(model with { CardJson = $"{{\"element_frequencies\":[{freq}]}}" });
    }

    [Fact]
    public void Float16_rejects_out_of_range_weights()
    {
        var model = TinyMlp();
        var first = model.Graph.Tensors.Values.First();
        var big = first with { Data = first.Data.Select(_ => 1e6f).ToArray(), StorageType = TensorStorageType.Float16 };
        var tensors = model.Graph.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        tensors[first.Name] = big;
        var e = Assert.Throws<InputException>(() => WeightFile.Serialize(model with { Graph = model.Graph with { Tensors = tensors } }));
        Assert.Contains("float16 range", e.Message);
    }
}
