using System.Text.Json;
using Kiago.Autodiff;
using Kiago.Chemistry;
using Kiago.Kernels.Cpu;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Weights;

namespace Kiago.Tests.Nets;

/// <summary>
/// The C# featurisers against the Python training featurisers: Fixtures/featuriser_images.json is written by
/// training/make_featuriser_fixture.py from shared elements.csv (format in training/README.md).
/// </summary>
public class FeaturiserFixtureTests
{
    static float[] Featurise(ModelKind kind, string formula)
    {
        using var backend = new CpuBackend(threads: 1);
        using var tape = new Tape(backend) { RecordGradients = false };
        using var featuriser = new Featuriser(kind, backend);
        var host = new float[Featuriser.CompositionColumns];
        Composition.Parse(formula).WriteFractions(host);
        using var x = backend.Allocate<float>(host.Length);
        backend.Upload<float>(host, x);
        var features = featuriser.Apply(tape, tape.Leaf(x, [1, Featuriser.CompositionColumns]));
        var result = new float[featuriser.OutputSize];
        backend.Download(features.Buffer, result);
        return result;
    }

    [Fact]
    public void Image_and_ElemNet_input_match_the_python_featurisers()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(NetsFixtures.Folder, "featuriser_images.json")));
        Assert.Equal([4, 7, 32], doc.RootElement.GetProperty("image_shape").EnumerateArray().Select(e => e.GetInt32()));
        int cases = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string formula = c.GetProperty("formula").GetString()!;
            var expectedImage = new double[4 * 7 * 32];
            foreach (var cell in c.GetProperty("image_cells").EnumerateArray())
            {
                var v = cell.EnumerateArray().ToArray();
                expectedImage[(v[0].GetInt32() * 7 + v[1].GetInt32()) * 32 + v[2].GetInt32()] = v[3].GetDouble();
            }
            var image = Featurise(ModelKind.TcResNet, formula);
            for (int i = 0; i < image.Length; i++)
                Assert.True(Math.Abs(image[i] - expectedImage[i]) < 1e-6, $"{formula}: image cell {i} is {image[i]}, Python {expectedImage[i]}");

            var expectedInput = new double[86];
            foreach (var entry in c.GetProperty("elemnet_input").EnumerateArray())
            {
                var v = entry.EnumerateArray().ToArray();
                expectedInput[v[0].GetInt32()] = v[1].GetDouble();
            }
            var input = Featurise(ModelKind.ElemNet, formula);
            for (int i = 0; i < input.Length; i++)
                Assert.True(Math.Abs(input[i] - expectedInput[i]) < 1e-6, $"{formula}: ElemNet input {i} is {input[i]}, Python {expectedInput[i]}");
            cases++;
        }
        Assert.True(cases >= 10, $"only {cases} cases in the fixture");
    }
}
