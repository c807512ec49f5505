namespace PktFlow.Datapath;

/// <summary>Names the kernel function a stage models and the file it lives in (docs/stage-map.md is generated from these).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class KernelSymbolAttribute(string function, string file) : Attribute
{
    public string Function { get; } = function;
    public string File { get; } = file;
}
