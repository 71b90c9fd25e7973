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
    public static int Run(RootCommand root, string[] args)
    {
        try
        {
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var error in parse.Errors)
                    Console.Error.WriteLine($"kiago: {error.Message}");
                Console.Error.WriteLine("Run 'kiago --help' for usage.");
                return ExitCodes.Usage;
            }
            return parse.Invoke();
        }
        catch (UserInputException e)
        {
            Console.Error.WriteLine($"kiago: error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"kiago: internal error: {e.GetType().Name}: {e.Message}");
            return ExitCodes.Failure;
        }
    }
}
