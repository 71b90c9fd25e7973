namespace Kiago;

/// <summary>
/// The base of every error caused by what the user gave Kiago (a formula, a CSV, a model file, an option value, an
/// output path, an environment variable) rather than by a defect. The message names what is wrong and where (file
/// and line, formula and column, option); the CLI prints it on one line and exits 2, with no stack trace. Anything
/// else that escapes a command is a defect (exit 3).
/// </summary>
public class InputException : Exception
{
    public InputException(string message) : base(message) { }

    public InputException(string message, Exception? inner) : base(message, inner) { }
}
