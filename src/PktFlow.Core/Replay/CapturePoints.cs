using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Topology;

namespace PktFlow.Replay;

/// <summary>
/// Where each frame of a capture of several devices was taken: `tcpdump -i any` (Linux cooked v2:
/// every frame carries the ifindex of its device) or a pcapng with one interface per device (if_name).
/// The device is looked up in the capture's namespace (the host, or the namespace -InjectAt names):
/// by ifindex, as the kernel numbered the devices (a snapshot keeps the real numbers; a lab numbers
/// them the way the kernel does in a fresh namespace, checked against every recorded scenario), or by
/// name. A frame whose device is not in the model is an error naming the frame, never dropped silently.
/// </summary>
public sealed class CapturePoints
{
    private readonly Dictionary<int, NetDevice> _byIndex = new();
    private readonly Dictionary<string, InjectionPoint> _points = new();

    public NetNamespace Namespace { get; }

    private CapturePoints(NetNamespace ns)
    {
        Namespace = ns;
        foreach (var d in ns.Devices) _byIndex[d.IfIndex] = d;
    }

    /// <summary>-InjectAt `any` or `NS/any`: every frame at the device it was captured on, in that namespace.</summary>
    public static bool IsAny(string? injectAt) => injectAt is not null && (injectAt == "any" || injectAt.EndsWith("/any", StringComparison.Ordinal));

    /// <summary>
    /// The capture points for a replay, or null when every frame enters at one device: with -InjectAt
    /// `any` / `NS/any`; without -InjectAt, when the capture names the devices of its frames (cooked v2
    /// frames, or pcapng frames of two or more named interfaces) and the host is not inferred.
    /// </summary>
    public static CapturePoints? For(HostTopology topology, string? injectAt, string capturePath, bool inferred)
    {
        if (IsAny(injectAt))
        {
            var slash = injectAt!.IndexOf('/');
            var ns = slash < 0 ? topology.Host : topology.Namespace(injectAt[..slash])
                ?? throw new ArgumentException($"-InjectAt {injectAt}: no namespace '{injectAt[..slash]}' in {topology.Source} (namespaces: {string.Join(", ", topology.Namespaces.Select(n => n.Name))})");
            return new CapturePoints(ns);
        }
        return injectAt is null && !inferred && NamesDevices(capturePath) ? new CapturePoints(topology.Host) : null;
    }

    /// <summary>Whether the first frames say which device each was captured on.</summary>
    private static bool NamesDevices(string capturePath)
    {
        var names = new HashSet<string>();
        using var reader = CaptureReader.Open(capturePath);
        for (int i = 0; i < HostInference.FramesToLook; i++)
        {
            var s = reader.Read(out var frame, out _);
            if (s == CaptureReadStatus.End) break;
            if (s != CaptureReadStatus.Frame) continue;
            if (frame.LinkType == LinkType.LinuxSll2) return true;
            if (frame.InterfaceName is { } name && names.Add(name) && names.Count > 1) return true;
        }
        return false;
    }

    /// <summary>The device a frame was captured on; false with a message naming the frame when the model has no such device.</summary>
    public bool TryResolve(in CaptureFrame frame, out InjectionPoint? at, out string? error)
    {
        at = null;
        error = null;
        NetDevice? dev;
        string what;
        if (frame.LinkType == LinkType.LinuxSll2 && LinkLayer.TryDecode(frame.LinkType, frame.Data.Span, out var link, out _) && link.InterfaceIndex is { } index)
        {
            dev = _byIndex.GetValueOrDefault(index);
            what = $"ifindex {index}";
        }
        else if (frame.InterfaceName is { } name)
        {
            dev = Namespace.Device(name);
            what = $"interface '{name}' (pcapng interface {frame.InterfaceId})";
        }
        else
        {
            error = $"frame {frame.Number} does not say which device of {Namespace.Name} it was captured on ({LinkLayer.Describe(frame.LinkType)} without an interface name): a capture of several devices needs Linux cooked v2 frames (tcpdump -i any) or pcapng interface names; pass -InjectAt ns/dev to replay every frame at one device";
            return false;
        }
        if (dev is null)
        {
            error = $"frame {frame.Number} was captured on {what}, which no device of {Namespace.Name} in the model has (devices: {string.Join(", ", Namespace.Devices.Select(d => $"{d.Name} {d.IfIndex}"))}); it is not replayed";
            return false;
        }
        if (!_points.TryGetValue(dev.Name, out var point)) _points[dev.Name] = point = new InjectionPoint(Namespace, dev);
        at = point;
        return true;
    }
}
