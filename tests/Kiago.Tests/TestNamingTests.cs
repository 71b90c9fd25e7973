using System.Reflection;
using System.Text.RegularExpressions;

namespace Kiago.Tests;

/// <summary>
/// The test-name convention (.editorconfig names the field rules the build enforces; this is the one for tests): a
/// test is a sentence in words joined by underscores, first word capitalised, proper names kept
/// (<c>ElemNet_gives_NaCl_strongly_negative</c>), so a failing test's name says what broke.
/// </summary>
public sealed partial class TestNamingTests
{
    [GeneratedRegex(@"^[A-Z][A-Za-z0-9]*(_[A-Za-z0-9]+)+$")]
    private static partial Regex SentenceName();

    [Fact]
    public void Every_test_is_named_as_a_sentence_joined_by_underscores()
    {
        var tests = typeof(TestNamingTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any())
            .ToList();
        Assert.True(tests.Count > 300, $"only {tests.Count} test methods found: is the reflection still finding them?");
        var bad = tests.Where(m => !SentenceName().IsMatch(m.Name)).Select(m => $"{m.DeclaringType!.Name}.{m.Name}").ToList();
        Assert.True(bad.Count == 0, "test names that are not sentences joined by underscores: " + string.Join(", ", bad));
    }
}
