using System.CommandLine;
using Kiago.Kernels;

namespace Kiago.Cli;

/// <summary>
/// The one definition of the options every compute command shares: <c>--device</c> (default auto everywhere) and
/// <c>--threads</c> (default: the CPUs this process may use). Commands add them with <see cref="AddTo"/> and make
/// their backend with <see cref="CreateBackend"/>, so every command parses, defaults and reports them the same way.
/// </summary>
internal sealed class ComputeOptions
{
    public Option<string> Device { get; } = new("--device")
    {
        Description = $"{BackendFactory.Choices}: auto = CUDA when a device is present, else the SIMD CPU backend",
        DefaultValueFactory = _ => "auto",
    };

    public Option<int?> Threads { get; } = new("--threads")
    {
        Description = $"CPU threads (default: the CPUs this process may use, respecting affinity and cgroup limits; {BackendFactory.AvailableCpus} here)",
    };

    /// <summary>A new pair, added to <paramref name="command"/>; a CPU-only command (screen) takes --threads alone.</summary>
    public static ComputeOptions AddTo(Command command, bool device = true)
    {
        var options = new ComputeOptions();
        if (device) command.Options.Add(options.Device);
        command.Options.Add(options.Threads);
        return options;
    }

    /// <summary>The --device text as given (or its default), e.g. for a manifest.</summary>
    public string DeviceText(ParseResult parse) => parse.GetValue(Device)!;

    public DeviceRequest Request(ParseResult parse) => BackendFactory.Parse(DeviceText(parse));

    /// <summary>--threads, checked (≥ 1), or the CPUs this process may use.</summary>
    public int ThreadCount(ParseResult parse) => parse.GetValue(Threads) switch
    {
        null => BackendFactory.AvailableCpus,
        < 1 and var n => throw new UserInputException($"--threads {n}: must be at least 1"),
        var n => n.Value,
    };

    /// <summary>The backend --device and --threads ask for; a bad name or a missing CUDA device is an input error.</summary>
    public IBackend CreateBackend(ParseResult parse)
    {
        var request = Request(parse);
        int threads = ThreadCount(parse);
        return BackendFactory.Create(request, threads);
    }
}
