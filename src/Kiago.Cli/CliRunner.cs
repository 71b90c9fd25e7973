using System.CommandLine;

namespace Kiago.Cli;

/// <summary>Exit codes and the last line of defence: no stack trace ever reaches the user.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int BadInput = 2;
    public const int Failure = 3;
}

/// <summary>Raised for bad user input; the message names what and where.</summary>
public sealed class UserInputException(string message) : Exception(message);

internal static class CliRunner
{
    /// <summary>Parses and runs; commands write to <c>parseResult.InvocationConfiguration.Output/Error</c>, which
    /// are the given writers (tests pass their own) or the console.</summary>
    public static int Run(RootCommand root, string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var config = new InvocationConfiguration
        {
            Output = output ?? Console.Out,
            Error = error ?? Console.Error,
            EnableDefaultExceptionHandler = false, // ours below: no stack traces
        };
        try
        {
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var e in parse.Errors)
                    config.Error.WriteLine($"kiago: {e.Message}");
                config.Error.WriteLine("Run 'kiago --help' for usage.");
                return ExitCodes.Usage;
            }
            return parse.Invoke(config);
        }
        catch (Exception e) when (e is UserInputException or Kiago.Kernels.Ilgpu.EnvironmentVariableException)
        {
            config.Error.WriteLine($"kiago: error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception e)
        {
            config.Error.WriteLine($"kiago: internal error: {e.GetType().Name}: {e.Message}");
            return ExitCodes.Failure;
        }
    }
}
