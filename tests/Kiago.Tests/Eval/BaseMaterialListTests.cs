using Kiago.Chemistry;
using Kiago.Design.Experiments;
using Kiago.Tests.Support;

namespace Kiago.Tests.Eval;

public class BaseMaterialListTests
{
    static string Config(string file) => SharedData.Path("data", "experiments", "reference_sample_configs", file);

    [Theory]
    [InlineData("experiment_usual_dict.json", 9)]
    [InlineData("experiment_element_substitution_dict.json", 11)]
    [InlineData("experiment_usual_hsc.json", 6)]
    public void Reads_every_reference_list(string file, int count) =>
        Assert.Equal(count, BaseMaterialList.ReadJson(Config(file)).Count);

    [Fact]
    public void Reads_the_substitution_spec()
    {
        var lafeaso = BaseMaterialList.ReadJson(Config("experiment_element_substitution_dict.json"))
            .Single(b => b.Composition.Equals(Composition.Parse("AsFeLaO")));
        var spec = lafeaso.Substitution!;
        Assert.Equal("La", spec.Target.Symbol);
        Assert.Equal(3, spec.OxidationState);
        Assert.Equal(1.0, spec.Amount);
        Assert.Equal(Composition.Parse("As1Fe1O1"), spec.Remaining);
        Assert.Equal(13.406661987304688, lafeaso.ReferenceTc);
    }

    [Fact]
    public void Hydride_list_has_no_substitution_spec() =>
        Assert.All(BaseMaterialList.ReadJson(Config("experiment_usual_hsc.json")), b => Assert.Null(b.Substitution));

    [Theory]
    [InlineData("{}", "expected a JSON list")]
    [InlineData("[{\"elems\": \"['Xx']\", \"comp\": \"[1.0]\"}]", "entry 0: unknown element \"Xx\" in \"elems\"")]
    [InlineData("[{\"elems\": \"['Fe', 'O']\", \"comp\": \"[1.0]\"}]", "\"elems\" has 2 elements but \"comp\" has 1")]
    [InlineData("[{\"comp\": \"[1.0]\"}]", "missing string field \"elems\"")]
    [InlineData("[{\"elems\": \"['Fe']\", \"comp\": \"[x]\"}]", "\"comp\" item \"x\" is not a number")]
    [InlineData("[", "not valid JSON")]
    public void Bad_lists_name_the_entry_and_field(string json, string expected)
    {
        var e = Assert.Throws<BaseListException>(() => BaseMaterialList.ParseJson(json, "bases.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("bases.json", e.Message);
    }
}
