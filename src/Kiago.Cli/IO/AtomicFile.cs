namespace Kiago.Cli.IO;

/// <summary>
/// Writes a file so that it appears complete or not at all: content goes to a temporary file beside the target,
/// which is renamed over the target only on <see cref="Commit"/>. Disposing without committing deletes the temp file.
/// </summary>
public sealed class AtomicFile : IDisposable
{
    readonly string target;
    readonly string temp;
    bool committed;

    AtomicFile(string target)
    {
        this.target = Path.GetFullPath(target);
        var dir = Path.GetDirectoryName(this.target)!;
        temp = Path.Combine(dir, $".{Path.GetFileName(this.target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(dir);
            Stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"{target}: cannot write: {e.Message}");
        }
        Writer = new StreamWriter(Stream, CsvWriter.Utf8);
    }

    /// <summary>Starts writing <paramref name="path"/> (parent folders are created).</summary>
    public static AtomicFile Create(string path) => new(path);

    public Stream Stream { get; }
    /// <summary>UTF-8 (no BOM) text writer over <see cref="Stream"/>.</summary>
    public TextWriter Writer { get; }

    /// <summary>Flushes to disk and renames the temp file over the target.</summary>
    public void Commit()
    {
        try
        {
            Writer.Flush();
            ((FileStream)Stream).Flush(flushToDisk: true);
            Stream.Dispose();
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"{target}: cannot write: {e.Message}", e);
        }
        committed = true;
    }

    public void Dispose()
    {
        if (committed) return;
        Writer.Dispose();
        try { File.Delete(temp); } catch (IOException) { /* best effort: the target was never touched */ }
    }

    /// <summary>Writes bytes (e.g. a PNG) to a file atomically.</summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        using var file = Create(path);
        file.Stream.Write(bytes);
        file.Commit();
    }

    /// <summary>Writes a whole file atomically via <paramref name="write"/>.</summary>
    public static void Write(string path, Action<TextWriter> write)
    {
        using var file = Create(path);
        write(file.Writer);
        file.Commit();
    }
}
