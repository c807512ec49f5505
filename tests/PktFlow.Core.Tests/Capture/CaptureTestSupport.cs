using System.Runtime.CompilerServices;
using PktFlow.Capture;

namespace PktFlow.Tests.Capture;

/// <summary>One Read result, with the frame's bytes copied out.</summary>
internal sealed record ReadItem(CaptureReadStatus Status, CaptureFrame Frame, byte[] Data, CaptureProblem? Problem)
{
    public override string ToString() => Status switch
    {
        CaptureReadStatus.Frame => Frame.ToString(),
        CaptureReadStatus.Problem => Problem!.ToString(),
        _ => "End",
    };
}

internal static class CaptureTestSupport
{
    /// <summary>
    /// The repository root: PKTFLOW_REPO_ROOT, else the first folder holding PktFlow.sln above this
    /// source file (as compiled; the binaries may live elsewhere, e.g. under --artifacts-path), the
    /// test binaries or the current directory.
    /// </summary>
    public static string RepoRoot => PktFlow.Testing.RepoPaths.Root;

    /// <summary>tcpdump's test captures, referenced in place (see ../shared/conformance/README.md).</summary>
    public static string TcpdumpPcaps => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "conformance", "pcaps-tcpdump"));

    public static string TestData(string name) => Path.Combine(RepoRoot, "tests", "PktFlow.Core.Tests", "TestData", "capture", name);

    public static List<ReadItem> ReadAll(byte[] file, string name = "test.pcap") =>
        ReadAll(CaptureReader.Open(new MemoryStream(file), name));

    public static List<ReadItem> ReadAll(CaptureReader reader)
    {
        using (reader)
        {
            var items = new List<ReadItem>();
            while (true)
            {
                var status = reader.Read(out var frame, out var problem);
                items.Add(new ReadItem(status, frame, frame.Data.ToArray(), problem));
                if (status == CaptureReadStatus.End)
                {
                    // End is sticky.
                    Assert.Equal(CaptureReadStatus.End, reader.Read(out _, out _));
                    return items;
                }

                Assert.True(items.Count < 10_000_000, "reader never reached End");
            }
        }
    }

    public static List<CaptureFrame> FramesOf(List<ReadItem> items) =>
        items.Where(i => i.Status == CaptureReadStatus.Frame).Select(i => i.Frame).ToList();

    public static List<CaptureProblem> ProblemsOf(List<ReadItem> items) =>
        items.Where(i => i.Status == CaptureReadStatus.Problem).Select(i => i.Problem!).ToList();

    /// <summary>The statuses as a compact string, e.g. "F P F E".</summary>
    public static string Shape(List<ReadItem> items) =>
        string.Join(' ', items.Select(i => i.Status switch
        {
            CaptureReadStatus.Frame => "F",
            CaptureReadStatus.Problem => i.Problem!.Fatal ? "P!" : "P",
            _ => "E",
        }));
}

/// <summary>A fact that is skipped when tcpdump's captures are not next to the repository.</summary>
public sealed class TcpdumpFactAttribute : FactAttribute
{
    public TcpdumpFactAttribute()
    {
        if (!Directory.Exists(CaptureTestSupport.TcpdumpPcaps))
        {
            Skip = $"tcpdump captures not found at {CaptureTestSupport.TcpdumpPcaps}";
        }
    }
}

/// <summary>A stream that hides its length and cannot seek, like a pipe; optionally returns short reads.</summary>
internal sealed class UnseekableStream(byte[] data, int maxRead = int.MaxValue) : Stream
{
    private int _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = Math.Min(Math.Min(count, maxRead), data.Length - _position);
        Array.Copy(data, _position, buffer, offset, n);
        _position += n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
