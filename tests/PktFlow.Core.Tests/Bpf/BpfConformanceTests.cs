using System.Globalization;
using PktFlow.Bpf;

namespace PktFlow.Tests.Bpf;

/// <summary>
/// The bpf_conformance corpus (../shared/conformance/bpf_conformance/tests, read in place): each
/// .data file holds assembly (or raw instructions), input memory and the expected r0. The
/// interpreter must give every file's result; r1 points at the memory and r2 holds its length, as
/// the corpus's plugins set them.
/// </summary>
public sealed class BpfConformanceTests(ITestOutputHelper output)
{
    public static string? CorpusDir()
    {
        var dir = Path.GetFullPath(Path.Combine(PktFlow.Testing.RepoPaths.Root, "..", "shared", "conformance", "bpf_conformance", "tests"));
        return Directory.Exists(dir) ? dir : null;
    }

    internal sealed record Case(string Name, BpfInsn[] Insns, byte[] Memory, ulong Expected, string? ExpectedError);

    /// <summary>The sections of a .data file, read as the corpus's own test parser reads them.</summary>
    internal static Case Parse(string path)
    {
        string state = "";
        var asm = new System.Text.StringBuilder();
        var raw = new List<ulong>();
        var mem = new List<byte>();
        string? result = null, error = null;
        foreach (var line0 in File.ReadAllLines(path))
        {
            var line = line0.TrimEnd('\r');
            if (line.StartsWith("--"))
            {
                state = line.Contains("asm") ? "asm" : line.Contains("result") ? "result" : line.Contains("mem") ? "mem"
                    : line.Contains("raw") ? "raw" : line.Contains("error") ? "error" : "";
                continue;
            }
            if (line.Trim().Length == 0) continue;
            switch (state)
            {
                case "asm": asm.AppendLine(line); break;
                case "result": result = line.Trim(); break;
                case "error": error = line.Trim(); break;
                case "mem": foreach (var b in line.Split(' ', StringSplitOptions.RemoveEmptyEntries)) mem.Add(byte.Parse(b, NumberStyles.HexNumber, CultureInfo.InvariantCulture)); break;
                case "raw": foreach (var w in line.Split(' ', StringSplitOptions.RemoveEmptyEntries)) raw.Add(BpfAsm.ParseImm64(w)); break;
            }
        }
        BpfInsn[] insns;
        if (raw.Count > 0)
        {
            var bytes = new byte[raw.Count * 8];
            for (int i = 0; i < raw.Count; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 8), raw[i]);
            insns = BpfInsn.DecodeAll(bytes);
        }
        else insns = BpfAsm.Assemble(asm.ToString());
        return new Case(Path.GetFileNameWithoutExtension(path), insns, mem.ToArray(), result is null ? 0 : BpfAsm.ParseImm64(result), error);
    }

    /// <summary>Runs one case: null when it gives the expected result, else why not.</summary>
    internal static string? Run(Case c)
    {
        BpfProgram prog;
        try { prog = new BpfProgram(c.Name, "conformance", c.Insns); }
        catch (BpfLoadException e) { return c.ExpectedError is not null ? null : $"refused at load: {e.Message}"; }
        var vm = new BpfVm(BpfHelperTable.Common());
        vm.Reset([]);
        ulong r1 = c.Memory.Length == 0 ? 0 : vm.Memory.Add(c.Memory, 0, c.Memory.Length, writable: true, "memory");
        var res = vm.Run(prog, r1, (ulong)c.Memory.Length);
        if (c.ExpectedError is not null) return res.Ok ? $"expected error \"{c.ExpectedError}\", got r0 0x{res.R0:x}" : null;
        if (!res.Ok) return res.ToString();
        return res.R0 == c.Expected ? null : $"r0 0x{res.R0:x}, expected 0x{c.Expected:x}";
    }

    [Fact]
    public void EveryCorpusFileGivesItsExpectedResult()
    {
        var dir = CorpusDir();
        if (dir is null) { output.WriteLine("conformance data absent: skipped"); return; }
        var files = Directory.GetFiles(dir, "*.data").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        Assert.True(files.Length > 300, $"corpus has {files.Length} files");
        var failures = new List<string>();
        foreach (var f in files)
        {
            string? why;
            try { why = Run(Parse(f)); }
            catch (FormatException e) { why = $"assembler: {e.Message}"; }
            if (why is not null) failures.Add($"{Path.GetFileName(f)}: {why}");
        }
        output.WriteLine($"bpf_conformance: {files.Length - failures.Count}/{files.Length} pass");
        foreach (var f in failures) output.WriteLine(f);
        Assert.Empty(failures);
    }
}

public sealed class BpfConformanceHarnessTests
{
    [Fact]
    public void AWrongExpectationIsReported()
    {
        var dir = BpfConformanceTests.CorpusDir();
        if (dir is null) return;
        var c = BpfConformanceTests.Parse(Path.Combine(dir, "add.data"));
        Assert.Null(BpfConformanceTests.Run(c));
        Assert.Equal("r0 0x3, expected 0x4", BpfConformanceTests.Run(c with { Expected = 4 }));
    }
}
