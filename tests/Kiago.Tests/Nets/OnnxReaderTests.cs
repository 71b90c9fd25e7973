using Kiago.Nets.Onnx;
using Kiago.Tests.Support;

namespace Kiago.Tests.Nets;

public class OnnxReaderTests
{
    static string Conformance(string group, string name, string file = "model.onnx") =>
        SharedData.Path("onnx-conformance", group, name, file);

    [Fact]
    public void Reads_conv_model_with_initializers_and_attributes()
    {
        var model = OnnxReader.ReadModel(Conformance("pytorch-converted", "test_Conv2d_padding"));
        Assert.Equal(3, model.IrVersion);
        Assert.Equal(6, model.Opset);
        var node = Assert.Single(model.Graph.Nodes);
        Assert.Equal("Conv", node.OpType);
        Assert.Equal([1L, 1, 1, 1], node.Attribute("pads")!.Ints);
        Assert.Equal([2L, 2], node.Attribute("strides")!.Ints);
        var weight = model.Graph.Initializers.Single(t => t.Name == "1");
        Assert.Equal([4L, 3, 3, 3], weight.Dims);
        Assert.Equal(108, weight.Floats!.Length);
        Assert.Equal([2L, 3, 6, 6], model.Graph.Inputs[0].Shape!.Select(d => d.Value!.Value));
    }

    [Fact]
    public void Reads_test_data_tensor()
    {
        var t = OnnxReader.ReadTensorFile(Conformance("pytorch-converted", "test_ReLU", Path.Combine("test_data_set_0", "input_0.pb")));
        Assert.Equal(OnnxDataType.Float, t.DataType);
        Assert.Equal([2L, 3, 4, 5], t.Dims);
        Assert.Equal(120, t.Floats!.Length);
        Assert.Contains(t.Floats, v => v < 0);
    }

    [Fact]
    public void Reads_symbolic_batch_dimension_and_shape_constants()
    {
        var model = OnnxReader.ReadModel(Path.Combine(NetsFixtures.Folder, "tiny_resnet_nofold_op13.onnx"));
        Assert.Equal("batch", model.Graph.Inputs[0].Shape![0].Symbol);
        Assert.Equal(13, model.Opset);
        var constant = model.Graph.Nodes.First(n => n.OpType == "Constant");
        Assert.NotNull(constant.Attribute("value")!.T!.Int64s);
    }

    static byte[] Tensor(int dataType, long[] dims, Action<ProtoWriter> data, string name = "t")
    {
        var w = new ProtoWriter().PackedVarints(1, dims).Varint(2, dataType).String(8, name);
        data(w);
        return w.ToArray();
    }

    static OnnxTensor ParseTensor(byte[] bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"kiago-tensor-{Guid.NewGuid():N}.pb");
        File.WriteAllBytes(path, bytes);
        try { return OnnxReader.ReadTensorFile(path); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Decodes_float16_raw_and_typed()
    {
        Half[] values = [(Half)1.5f, (Half)(-2.25f), (Half)65504f];
        var raw = values.SelectMany(h => BitConverter.GetBytes(BitConverter.HalfToUInt16Bits(h))).ToArray();
        var fromRaw = ParseTensor(Tensor(10, [3], w => w.Bytes(9, raw)));
        Assert.Equal([1.5f, -2.25f, 65504f], fromRaw.Floats!);
        // typed float16 data lives in int32_data as the 16-bit patterns
        var fromTyped = ParseTensor(Tensor(10, [3], w => w.PackedVarints(5, values.Select(h => (long)BitConverter.HalfToUInt16Bits(h)))));
        Assert.Equal(fromRaw.Floats, fromTyped.Floats);
    }

    [Fact]
    public void Decodes_typed_float_and_int64()
    {
        var f = ParseTensor(Tensor(1, [2, 2], w => w.PackedFloats(4, [1f, 2f, 3f, 4f])));
        Assert.Equal([1f, 2f, 3f, 4f], f.Floats!);
        var i = ParseTensor(Tensor(7, [3], w => w.PackedVarints(7, [-1, 0, 5])));
        Assert.Equal([-1L, 0, 5], i.Int64s!);
        // unpacked repeated fields are legal protobuf too
        var unpacked = ParseTensor(new ProtoWriter().Varint(1, 2).Varint(2, 1).Fixed32(4, 7f).Fixed32(4, 8f).ToArray());
        Assert.Equal([7f, 8f], unpacked.Floats!);
    }

    [Fact]
    public void Wrong_element_count_names_tensor_and_offset()
    {
        var e = Assert.Throws<OnnxFormatException>(() => ParseTensor(Tensor(1, [5], w => w.PackedFloats(4, [1f, 2f]), "w1")));
        Assert.Contains("'w1'", e.Message);
        Assert.Contains("expected 5", e.Message);
        Assert.Contains("byte 0", e.Message);
    }

    [Fact]
    public void Truncated_model_names_file_and_offset()
    {
        var bytes = File.ReadAllBytes(Conformance("pytorch-converted", "test_Conv2d"));
        var cut = bytes[..(bytes.Length - 7)];
        var e = Assert.Throws<OnnxFormatException>(() => OnnxReader.ReadModel(cut, "cut.onnx"));
        Assert.StartsWith("cut.onnx: byte ", e.Message);
        Assert.InRange(e.Offset, 0, cut.Length);
    }

    [Fact]
    public void Foreign_file_is_rejected()
    {
        var text = System.Text.Encoding.ASCII.GetBytes("Z,symbol,name\n1,H,Hydrogen\n");
        var e = Assert.Throws<OnnxFormatException>(() => OnnxReader.ReadModel(text, "elements.csv"));
        Assert.Contains("elements.csv", e.Message);
    }
}
