using System.Globalization;
using System.Text;

namespace Kiago;

/// <summary>
/// How error messages show what the user gave: control characters escaped (a newline inside a CSV field must not
/// break the one-line message) and very long text cut to a window around the position the message names.
/// </summary>
public static class InputText
{
    const int Window = 60;

    /// <summary><paramref name="text"/> in double quotes, escaped; longer than 2 × 60 characters it is cut around <paramref name="index"/> (0-based).</summary>
    public static string Quote(string text, int index = 0)
    {
        if (text.Length <= 2 * Window) return "\"" + Escape(text) + "\"";
        int start = Math.Clamp(index - Window, 0, text.Length - 2 * Window);
        var sb = new StringBuilder("\"");
        if (start > 0) sb.Append('…');
        sb.Append(Escape(text.Substring(start, 2 * Window)));
        if (start + 2 * Window < text.Length) sb.Append('…');
        return sb.Append("\" (").Append(text.Length.ToString(CultureInfo.InvariantCulture)).Append(" characters)").ToString();
    }

    /// <summary>One character as a message shows it: printable as itself, otherwise escaped (\n, \t, \u0000).</summary>
    public static string Escape(char c) => c switch
    {
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        _ when char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' => $"\\u{(int)c:x4}",
        _ => c.ToString(),
    };

    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text) sb.Append(Escape(c));
        return sb.ToString();
    }
}
