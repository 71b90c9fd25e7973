using System.CommandLine;
using System.CommandLine.Parsing;

namespace Kiago.Cli;

/// <summary>
/// The exit codes, the same for every command (docs/EXIT-CODES.md): 0 done; 1 usage (unknown command or option,
/// missing argument or option, a value missing after an option); 2 bad input (any <see cref="InputException"/>:
/// a formula, CSV, model file, option value, output path, environment variable); 3 a defect (anything else).
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int BadInput = 2;
    public const int Failure = 3;
}

/// <summary>Raised by the CLI for bad user input; the message names what and where. One of the <see cref="InputException"/>s.</summary>
public sealed class UserInputException : InputException
{
    public UserInputException(string message) : base(message) { }

    public UserInputException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// The command line is missing something a command needs that the parser cannot see (e.g. formulas as arguments or
/// --in FILE, one of the two): usage, exit 1, like a missing required option.
/// </summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The one place that turns errors into exit codes and one-line messages: no stack trace ever reaches the user.</summary>
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
                    config.Error.WriteLine($"kiago: {(IsBadValue(e) ? "error" : "usage")}: {e.Message}");
                if (parse.Errors.All(IsBadValue)) return ExitCodes.BadInput;
                config.Error.WriteLine("Run 'kiago --help' (or 'kiago COMMAND --help') for usage.");
                return ExitCodes.Usage;
            }
            return parse.Invoke(config);
        }
        catch (UsageException e)
        {
            config.Error.WriteLine($"kiago: usage: {OneLine(e.Message)}");
            config.Error.WriteLine("Run 'kiago --help' (or 'kiago COMMAND --help') for usage.");
            return ExitCodes.Usage;
        }
        catch (InputException e)
        {
            config.Error.WriteLine($"kiago: error: {OneLine(e.Message)}");
            return ExitCodes.BadInput;
        }
        catch (OutOfMemoryException e)
        {
            // host memory: the sizes asked for (--candidates, --batch, --samples) do not fit this machine
            config.Error.WriteLine($"kiago: error: out of memory ({OneLine(e.Message)}): use fewer --candidates, a smaller --batch or fewer --samples");
            return ExitCodes.BadInput;
        }
        catch (Exception e)
        {
            config.Error.WriteLine($"kiago: internal error (a defect, please report it): {e.GetType().Name}: {OneLine(e.Message)}");
            // for the report: KIAGO_STACK_TRACE=1 adds the stack trace a user otherwise never sees
            if (Environment.GetEnvironmentVariable("KIAGO_STACK_TRACE") == "1") config.Error.WriteLine(e.ToString());
            return ExitCodes.Failure;
        }
    }

    /// <summary>
    /// A value was given but is not acceptable (not a number, not one of the choices): bad input, exit 2. Errors
    /// about the shape of the command line (unknown tokens, a missing option or argument) are usage, exit 1.
    /// </summary>
    static bool IsBadValue(ParseError error) =>
        error.SymbolResult is ArgumentResult { Tokens.Count: > 0 } or OptionResult { Tokens.Count: > 0 };

    static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
