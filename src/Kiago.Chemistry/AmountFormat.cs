using System.Globalization;
using System.Text;

namespace Kiago.Chemistry;

/// <summary>Prints amounts as plain decimals (never exponents) with the shortest digits that round-trip the double.</summary>
public static class AmountFormat
{
    public static string Format(double value)
    {
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOfAny(['E', 'e']);
        if (e < 0) return r;
        bool negative = r[0] == '-';
        var mantissa = r[(negative ? 1 : 0)..e];
        int exponent = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int point = mantissa.IndexOf('.');
        var digits = point < 0 ? mantissa : mantissa.Remove(point, 1);
        int intDigits = (point < 0 ? mantissa.Length : point) + exponent;
        var sb = new StringBuilder(negative ? "-" : "");
        if (intDigits <= 0)
            sb.Append("0.").Append('0', -intDigits).Append(digits);
        else if (intDigits >= digits.Length)
            sb.Append(digits).Append('0', intDigits - digits.Length);
        else
            sb.Append(digits, 0, intDigits).Append('.').Append(digits, intDigits, digits.Length - intDigits);
        return sb.ToString();
    }
}
