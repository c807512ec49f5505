namespace PktFlow.Topology;

/// <summary>
/// The namespace's sysctl values. Keys are the dotted names `sysctl -w` takes. Unset keys read the
/// kernel's defaults for a new network namespace. Per-device IPv4/IPv6 conf keys resolve the way
/// devinet does: writing `all` (or ip_forward) for forwarding propagates to every device.
/// </summary>
public sealed class Sysctls
{
    private static readonly Dictionary<string, string> KernelDefaults = new()
    {
        ["net.ipv4.ip_forward"] = "0",
        ["net.ipv4.conf.all.forwarding"] = "0",
        ["net.ipv4.conf.default.forwarding"] = "0",
        ["net.ipv4.conf.all.rp_filter"] = "0",
        ["net.ipv4.conf.default.rp_filter"] = "0",
        ["net.ipv4.conf.all.accept_local"] = "0",
        ["net.ipv4.conf.all.route_localnet"] = "0",
        ["net.ipv4.conf.all.send_redirects"] = "1",
        ["net.ipv4.conf.default.send_redirects"] = "1",
        ["net.ipv4.conf.all.arp_ignore"] = "0",
        ["net.ipv4.icmp_echo_ignore_all"] = "0",
        ["net.ipv4.icmp_echo_ignore_broadcasts"] = "1",
        ["net.ipv6.conf.all.forwarding"] = "0",
        ["net.ipv6.conf.default.forwarding"] = "0",
        ["net.ipv6.conf.all.disable_ipv6"] = "0",
        ["net.ipv6.conf.default.disable_ipv6"] = "0",
    };

    private readonly Dictionary<string, string> _values;
    /// <summary>
    /// Resolved values by key and by (family, device, name): stages ask the same few keys for every
    /// packet, and resolving (splitting, falling back to default) allocated each time. The values never
    /// change after load, so the caches only grow to the keys asked.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> _resolved = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Family, string Device, string Name), string?> _conf = new();

    internal Sysctls(Dictionary<string, string> values) => _values = values;

    public IReadOnlyDictionary<string, string> Explicit => _values;

    public static string Normalize(string key) => key.Trim().Replace('/', '.');

    /// <summary>The value in force: set explicitly, else the kernel default, else null (unknown key).</summary>
    public string? Get(string key) =>
        _resolved.TryGetValue(key, out var v) ? v : _resolved[key] = Resolve(key);

    /// <summary>net.FAMILY.conf.DEVICE.NAME ("ipv4", "eth0", "rp_filter"), without building the key per packet.</summary>
    public string? Conf(string family, string device, string name) =>
        _conf.TryGetValue((family, device, name), out var v) ? v : _conf[(family, device, name)] = Get($"net.{family}.conf.{device}.{name}");

    /// <summary>Whether net.FAMILY.conf.DEVICE.NAME is set to anything but 0.</summary>
    public bool ConfIsOn(string family, string device, string name) => Conf(family, device, name) is { } v && v.Trim() != "0";

    private string? Resolve(string key)
    {
        key = Normalize(key);
        if (_values.TryGetValue(key, out var v)) return v;
        if (KernelDefaults.TryGetValue(key, out v)) return v;
        // net.ipv4.conf.DEV.X falls back to default.X (a device created after `default` was written);
        // DEV may itself hold dots (a VLAN device br0.10, which sysctl writes br0/10).
        var parts = key.Split('.');
        if (parts.Length >= 5 && parts[0] == "net" && parts[2] == "conf" && !(parts.Length == 5 && parts[3] is "all" or "default"))
            return Get($"{parts[0]}.{parts[1]}.conf.default.{parts[^1]}");
        return null;
    }

    public bool IsOn(string key) => Get(key) is { } v && v.Trim() != "0";

    /// <summary>IN_DEV_FORWARD(in_dev): the device's own forwarding value.</summary>
    public bool Ipv4Forwarding(string device) => ConfIsOn("ipv4", device, "forwarding");

    /// <summary>ip6_forward checks devconf_all->forwarding.</summary>
    public bool Ipv6Forwarding => IsOn("net.ipv6.conf.all.forwarding");

    public bool Ipv6Disabled(string device) => ConfIsOn("ipv6", device, "disable_ipv6");

    /// <summary>
    /// Applies one write as the kernel does, given the devices that exist at that moment.
    /// Forwarding writes to ip_forward / conf.all propagate to every device and to `default`.
    /// </summary>
    internal static void Apply(Dictionary<string, string> values, string key, string value, IEnumerable<string> devices)
    {
        key = Normalize(key);
        values[key] = value;
        string? family = key switch
        {
            "net.ipv4.ip_forward" or "net.ipv4.conf.all.forwarding" => "ipv4",
            "net.ipv6.conf.all.forwarding" => "ipv6",
            _ => null,
        };
        if (family is null) return;
        if (family == "ipv4") { values["net.ipv4.ip_forward"] = value; values["net.ipv4.conf.all.forwarding"] = value; }
        values[$"net.{family}.conf.default.forwarding"] = value;
        foreach (var d in devices) values[$"net.{family}.conf.{d}.forwarding"] = value;
    }
}
