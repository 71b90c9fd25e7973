using System.Security.Cryptography;

namespace Kiago.Nets;

/// <summary>The one way Kiago fingerprints a file (weights in manifests, calibration bindings, known lists).</summary>
public static class FileChecksum
{
    /// <summary>Lower-case hex SHA-256 of the file's bytes, streamed.</summary>
    public static string Sha256Hex(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
