using PktFlow.Capture;

namespace PktFlow.Tests.Capture;

/// <summary>The committed pcapng sample is exactly what <see cref="SampleFiles"/> builds.</summary>
public class SampleFileTests
{
    [Fact]
    public void MixedSectionsSampleMatchesItsBuilder()
    {
        string path = Path.Combine(CaptureTestSupport.RepoRoot, SampleFiles.MixedSections);
        byte[] built = SampleFiles.BuildMixedSections();
        if (Environment.GetEnvironmentVariable("PKTFLOW_REGENERATE_CAPTURE_SAMPLES") == "1")
        {
            File.WriteAllBytes(path, built);
        }

        Assert.Equal(built, File.ReadAllBytes(path));
    }
}
