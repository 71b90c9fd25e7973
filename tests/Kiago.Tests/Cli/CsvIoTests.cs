using System.Text;
using Kiago.Cli;
using Kiago.Cli.IO;

namespace Kiago.Tests.Cli;

public class CsvIoTests
{
    static List<CsvRecord> Read(string text) => Read(Encoding.UTF8.GetBytes(text));

    static List<CsvRecord> Read(byte[] bytes)
    {
        using var reader = new CsvReader(new MemoryStream(bytes), "test.csv");
        return [.. reader.ReadAll()];
    }

    [Fact]
    public void Quoted_fields_hold_commas_quotes_and_newlines()
    {
        var records = Read("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",x\n");
        Assert.Equal(["a", "b,c", "say \"hi\""], records[0].Fields);
        Assert.Equal(["two\nlines", "x"], records[1].Fields);
        Assert.Equal(1, records[0].Line);
        Assert.Equal(2, records[1].Line);
    }

    [Fact]
    public void Byte_order_mark_is_skipped_and_last_line_needs_no_newline()
    {
        var records = Read([0xEF, 0xBB, 0xBF, .. "formula\nNaCl"u8]);
        Assert.Equal(["formula"], records[0].Fields);
        Assert.Equal(["NaCl"], records[1].Fields);
    }

    [Fact]
    public void Invalid_utf8_across_chunk_boundary_is_found_at_its_offset()
    {
        // 70 000 ASCII bytes (past the 64 KiB chunk), then a truncated 2-byte sequence.
        var bytes = Enumerable.Repeat((byte)'a', 70_000).Append((byte)0xC3).Append((byte)'\n').ToArray();
        var e = Assert.Throws<UserInputException>(() => Read(bytes));
        Assert.Contains("byte offset 70000", e.Message);
        // A valid multi-byte character split by the chunk boundary decodes fine.
        var ok = Enumerable.Repeat((byte)'a', 65_535).Concat("é\n"u8.ToArray()).ToArray();
        Assert.EndsWith("é", Read(ok)[0].Fields[0]);
    }

    [Theory]
    [InlineData("a\"b\n", "line 1, column 2: stray '\"'")]
    [InlineData("\"ab\"c\n", "line 1, column 5: unexpected 'c' after a closing quote")]
    public void Malformed_quoting_names_line_and_column(string text, string message) =>
        Assert.Contains(message, Assert.Throws<UserInputException>(() => Read(text)).Message);

    [Fact]
    public void Writer_quotes_only_when_needed_and_round_trips()
    {
        var text = new StringWriter();
        new CsvWriter(text).WriteRecord("plain", "a,b", "say \"hi\"", "x\ny");
        Assert.Equal("plain,\"a,b\",\"say \"\"hi\"\"\",\"x\ny\"\n", text.ToString());
        Assert.Equal(["plain", "a,b", "say \"hi\"", "x\ny"], Read(text.ToString())[0].Fields);
    }

    [Fact]
    public void Atomic_file_appears_only_on_commit()
    {
        var dir = Directory.CreateTempSubdirectory("kiago-atomic-").FullName;
        try
        {
            var path = Path.Combine(dir, "out.csv");
            using (var file = AtomicFile.Create(path))
            {
                file.Writer.Write("partial");
                file.Writer.Flush();
                Assert.False(File.Exists(path));
            } // disposed without commit: nothing appears, temp removed
            Assert.False(File.Exists(path));
            Assert.Empty(Directory.GetFiles(dir));
            AtomicFile.Write(path, w => w.Write("done"));
            Assert.Equal("done", File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
