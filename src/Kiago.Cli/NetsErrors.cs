using Kiago.Nets.Graph;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;

namespace Kiago.Cli;

/// <summary>Turns the Nets library's file and model errors into user-input errors (exit 2, message kept).</summary>
internal static class NetsErrors
{
    public static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is OnnxFormatException or ModelImportException or WeightFileException or GraphException)
        {
            throw new UserInputException(e.Message);
        }
    }
}
