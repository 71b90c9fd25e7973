using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Kiago.Cli.IO;

/// <summary>
/// Decodes a stream as strict UTF-8 in chunks (a leading BOM is skipped). Invalid bytes raise a
/// <see cref="UserInputException"/> naming the source and the absolute byte offset — never a silent U+FFFD.
/// </summary>
public sealed class StrictUtf8Reader : IDisposable
{
    const int ChunkBytes = 1 << 16;
    readonly Stream stream;
    readonly string source;
    readonly byte[] bytes = ArrayPool<byte>.Shared.Rent(ChunkBytes);
    readonly char[] chars = ArrayPool<char>.Shared.Rent(ChunkBytes);
    int byteCount;      // undecoded bytes held at the start of `bytes`
    long bytesBefore;   // absolute offset of bytes[0]
    int charPos, charCount;
    bool eof, started;

    public StrictUtf8Reader(Stream stream, string source)
    {
        this.stream = stream;
        this.source = source;
    }

    /// <summary>Next char, or -1 at end of input.</summary>
    public int Read()
    {
        if (charPos == charCount && !Fill()) return -1;
        return chars[charPos++];
    }

    /// <summary>Next char without consuming it, or -1 at end of input.</summary>
    public int Peek()
    {
        if (charPos == charCount && !Fill()) return -1;
        return chars[charPos];
    }

    bool Fill()
    {
        charPos = charCount = 0;
        while (charCount == 0)
        {
            if (!eof)
            {
                int n = stream.Read(bytes, byteCount, ChunkBytes - byteCount);
                if (n == 0) eof = true;
                byteCount += n;
            }
            int start = 0;
            if (!started && (byteCount >= 3 || eof))
            {
                started = true;
                if (bytes.AsSpan(0, byteCount).StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) start = 3;
            }
            else if (!started) continue;
            var status = Utf8.ToUtf16(bytes.AsSpan(start, byteCount - start), chars.AsSpan(0, ChunkBytes),
                out int read, out int written, replaceInvalidSequences: false, isFinalBlock: eof);
            if (status == OperationStatus.InvalidData)
                throw new UserInputException(
                    $"{source}: not UTF-8: invalid byte 0x{bytes[start + read]:X2} at byte offset {bytesBefore + start + read} (0-based)");
            read += start;
            charCount = written;
            bytes.AsSpan(read, byteCount - read).CopyTo(bytes);
            bytesBefore += read;
            byteCount -= read;
            if (eof && charCount == 0) return false;
        }
        return true;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(bytes);
        ArrayPool<char>.Shared.Return(chars);
        stream.Dispose();
    }
}
