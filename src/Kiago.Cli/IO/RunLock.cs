using System.Text;

namespace Kiago.Cli.IO;

/// <summary>
/// An exclusive lock on an output folder, held while a run writes there, so two runs into the same --out cannot both
/// compute. It is an advisory lock on DIR/.kiago.lock (.NET opens with FileShare.None as flock(LOCK_EX) on Unix), so
/// the kernel releases it when the holder dies, even by SIGKILL: a stale lock file never blocks a later run.
/// The file holds the holder's PID and host, for the message a second run prints.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = ".kiago.lock";
    readonly FileStream stream;

    RunLock(FileStream stream) => this.stream = stream;

    /// <summary>Takes the lock on <paramref name="dir"/> (created if needed), or refuses naming the run that holds it.</summary>
    public static RunLock Acquire(string dir, string option = "--out")
    {
        string path = Path.Combine(dir, FileName);
        FileStream stream;
        try
        {
            Directory.CreateDirectory(dir);
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            string holder;
            try { holder = File.ReadAllText(path).Trim(); }
            catch (IOException) { holder = "unknown"; }
            throw new UserInputException($"{option} {dir}: another kiago run is writing there ({(holder.Length > 0 ? holder : "holder unknown")}); " +
                "wait for it to finish or choose another folder");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UserInputException($"{option} {dir}: cannot write there: {e.Message}", e);
        }
        stream.SetLength(0);
        stream.Write(Encoding.UTF8.GetBytes($"PID {Environment.ProcessId} on host {Environment.MachineName}, since {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}\n"));
        stream.Flush();
        return new RunLock(stream);
    }

    public void Dispose() => stream.Dispose();
}
