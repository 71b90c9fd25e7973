using System.CommandLine;
using Kiago.Nets.Graph;
using Kiago.Nets.Weights;

namespace Kiago.Cli;

/// <summary><c>kiago inspect name.kgw</c>: what the model is, its graph in brief, and its model card.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("weights.kgw") { Description = "a Kiago weight file" };
        var command = new Command("inspect", "Print a weight file's model card and summary") { file };
        command.SetAction(r => Run(r.GetRequiredValue(file), r.InvocationConfiguration.Output));
        return command;
    }

    static int Run(string path, TextWriter output)
    {
        var model = WeightFile.Read(path);
        var g = model.Graph;
        var storage = g.Tensors.Values.Select(t => t.StorageType).Distinct().Select(s => s == TensorStorageType.Float16 ? "fp16" : "fp32");
        output.WriteLine($"file:        {path} (format version {WeightFile.FormatVersion}, checksum OK)");
        output.WriteLine($"kind:        {ModelKinds.Name(model.Kind)}");
        output.WriteLine($"output:      {model.OutputName} [{model.OutputUnit}]");
        output.WriteLine($"input:       {model.InputElements.Length} elements, per-sample shape {GraphOps.Show(g.InputShape)}");
        output.WriteLine($"graph:       {g.Nodes.Count} ops ({string.Join(", ", g.Nodes.GroupBy(n => n.Op).Select(x => $"{x.Count()} {x.Key}"))})");
        output.WriteLine($"parameters:  {g.ParameterCount:N0} ({string.Join("+", storage)})");
        output.WriteLine($"created by:  {model.CreatedBy}");
        output.WriteLine("model card:");
        output.WriteLine(System.Text.Json.Nodes.JsonNode.Parse(model.CardJson)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return ExitCodes.Ok;
    }
}
