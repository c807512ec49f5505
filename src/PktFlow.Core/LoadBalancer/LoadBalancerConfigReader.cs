using System.Text.Json;
using PktFlow.Wire;

namespace PktFlow.LoadBalancer;

/// <summary>A load balancer file that cannot be used: names the file and the JSON path (`vips[0].backends[1].weight`).</summary>
public sealed class LoadBalancerConfigException(string file, string path, string message)
    : Exception($"{file}: {(path.Length == 0 ? "" : path + ": ")}{message}")
{
    public string File { get; } = file;
    public string JsonPath { get; } = path;
}

/// <summary>Reads the JSON format of docs/load-balancer.md. Unknown members are errors, so a typo never goes unnoticed.</summary>
public static class LoadBalancerConfigReader
{
    public static LoadBalancerConfig LoadFile(string path) => Parse(System.IO.File.ReadAllText(path), path);

    public static LoadBalancerConfig Parse(string json, string file)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new LoadBalancerConfigException(file, "", $"not valid JSON at line {(e.LineNumber ?? 0) + 1}: {e.Message.Split(" LineNumber:")[0]}"); }
        using (doc)
        {
            var r = new Reader(file);
            var root = doc.RootElement;
            r.Members(root, "", "name", "mac", "source", "source6", "idleTimeout", "flowTableSize", "vips");
            var vips = r.Array(root, "", "vips", required: true).Select((v, i) => r.Vip(v, $"vips[{i}]")).ToList();
            if (vips.Count == 0) throw r.Error("vips", "at least one VIP is needed");
            var dup = vips.GroupBy(v => (v.Address, v.Protocol, v.Port)).FirstOrDefault(g => g.Count() > 1);
            if (dup is not null) throw r.Error("vips", $"VIP {dup.First()} is listed twice");
            var cfg = new LoadBalancerConfig
            {
                Name = r.String(root, "", "name") ?? LoadBalancerConfig.DefaultName,
                Mac = r.String(root, "", "mac") is { } m ? (MacAddress.TryParse(m, out var mac) ? mac : throw r.Error("mac", $"'{m}' is not a MAC address")) : new LoadBalancerConfig { Vips = vips }.Mac,
                Source = r.Address(root, "", "source"),
                Source6 = r.Address(root, "", "source6"),
                IdleTimeoutSeconds = r.Number(root, "", "idleTimeout") ?? 300,
                FlowTableSize = r.Number(root, "", "flowTableSize") is { } size
                    ? (size >= 1 && size <= int.MaxValue && size == Math.Floor(size) ? (int)size : throw r.Error("flowTableSize", $"{size} is not a whole number of flows from 1 up"))
                    : LbFlowTable.DefaultCapacity,
                Vips = vips,
                File = file,
            };
            if (cfg.Source is { IsV6: true }) throw r.Error("source", "must be an IPv4 address (source6 is the IPv6 one)");
            if (cfg.Source6 is { IsV4: true }) throw r.Error("source6", "must be an IPv6 address");
            if (cfg.IdleTimeoutSeconds <= 0) throw r.Error("idleTimeout", "must be positive (seconds)");
            foreach (var (v, i) in vips.Select((v, i) => (v, i)))
            {
                if (v.Mode is not (LbForwardingMode.Ipip or LbForwardingMode.Gue)) continue;
                foreach (var (b, j) in v.Backends.Select((b, j) => (b, j)))
                    if ((b.Address.IsV4 ? cfg.Source : cfg.Source6) is null)
                        throw r.Error($"vips[{i}].backends[{j}]", $"{v.Mode.ToString().ToLowerInvariant()} to {b.Address} needs the outer source address: set \"{(b.Address.IsV4 ? "source" : "source6")}\" at the top level");
            }
            return cfg;
        }
    }

    private sealed class Reader(string file)
    {
        public LoadBalancerConfigException Error(string path, string message) => new(file, path, message);

        private static string Join(string path, string member) => path.Length == 0 ? member : $"{path}.{member}";

        public void Members(JsonElement e, string path, params string[] allowed)
        {
            if (e.ValueKind != JsonValueKind.Object) throw Error(path, "expected an object");
            foreach (var p in e.EnumerateObject())
                if (!allowed.Contains(p.Name)) throw Error(Join(path, p.Name), $"unknown member (expected one of: {string.Join(", ", allowed)})");
        }

        private JsonElement? Get(JsonElement e, string member) =>
            e.TryGetProperty(member, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

        public string? String(JsonElement e, string path, string member, bool required = false)
        {
            if (Get(e, member) is not { } v) return required ? throw Error(Join(path, member), "missing") : null;
            return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(Join(path, member), "expected a string");
        }

        public double? Number(JsonElement e, string path, string member)
        {
            if (Get(e, member) is not { } v) return null;
            return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Error(Join(path, member), "expected a number");
        }

        public int? Integer(JsonElement e, string path, string member, int min, int max)
        {
            if (Get(e, member) is not { } v) return null;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n) || n < min || n > max)
                throw Error(Join(path, member), $"expected an integer from {min} to {max}");
            return n;
        }

        public IpAddr? Address(JsonElement e, string path, string member, bool required = false)
        {
            if (String(e, path, member, required) is not { } s) return null;
            return IpAddr.TryParse(s, out var a) ? a : throw Error(Join(path, member), $"'{s}' is not an IP address");
        }

        public IEnumerable<JsonElement> Array(JsonElement e, string path, string member, bool required = false)
        {
            if (Get(e, member) is not { } v) return required ? throw Error(Join(path, member), "missing") : System.Array.Empty<JsonElement>();
            return v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToList() : throw Error(Join(path, member), "expected an array");
        }

        private bool State(JsonElement e, string path, string member, bool fallback) => String(e, path, member) switch
        {
            null => fallback,
            "up" => true,
            "down" => false,
            var s => throw Error(Join(path, member), $"'{s}': expected \"up\" or \"down\""),
        };

        public LbVip Vip(JsonElement e, string path)
        {
            Members(e, path, "address", "protocol", "port", "scheduler", "mode", "tableSize", "backends", "health");
            var protocol = String(e, path, "protocol") ?? "tcp";
            var scheduler = String(e, path, "scheduler") ?? "maglev";
            var mode = String(e, path, "mode") ?? "nat";
            var vip = new LbVip
            {
                Address = Address(e, path, "address", required: true)!.Value,
                Protocol = protocol switch { "tcp" => IpProtocol.Tcp, "udp" => IpProtocol.Udp, _ => throw Error(Join(path, "protocol"), $"'{protocol}': expected \"tcp\" or \"udp\"") },
                Port = (ushort)(Integer(e, path, "port", 1, 65535) ?? throw Error(Join(path, "port"), "missing")),
                Scheduler = scheduler switch
                {
                    "rr" or "roundrobin" => LbScheduler.RoundRobin,
                    "wlc" or "weighted-least-connections" => LbScheduler.WeightedLeastConnections,
                    "sh" or "source-hash" => LbScheduler.SourceHash,
                    "maglev" or "mh" => LbScheduler.Maglev,
                    _ => throw Error(Join(path, "scheduler"), $"'{scheduler}': expected rr, wlc, sh or maglev"),
                },
                Mode = mode switch
                {
                    "nat" => LbForwardingMode.Nat, "dsr" => LbForwardingMode.Dsr, "ipip" => LbForwardingMode.Ipip, "gue" => LbForwardingMode.Gue,
                    _ => throw Error(Join(path, "mode"), $"'{mode}': expected nat, dsr, ipip or gue"),
                },
                TableSize = Integer(e, path, "tableSize", 3, 1 << 24) ?? LoadBalancerConfig.DefaultMaglevTableSize,
                Backends = Array(e, path, "backends", required: true).Select((b, i) => Backend(b, $"{path}.backends[{i}]")).ToList(),
            };
            if (vip.Backends.Count == 0) throw Error(Join(path, "backends"), "at least one backend is needed");
            if (!MaglevTable.IsPrime(vip.TableSize)) throw Error(Join(path, "tableSize"), $"{vip.TableSize} is not prime (Maglev needs a prime table size)");
            if (vip.TableSize < vip.Backends.Count) throw Error(Join(path, "tableSize"), "smaller than the number of backends");
            if (vip.Backends.GroupBy(b => b.Name).FirstOrDefault(g => g.Count() > 1) is { } dup)
                throw Error(Join(path, "backends"), $"backend name '{dup.Key}' is used twice (names seed the Maglev permutation)");
            for (int i = 0; i < vip.Backends.Count; i++)
            {
                var b = vip.Backends[i];
                if (b.Address.Family != vip.Address.Family && vip.Mode is LbForwardingMode.Nat or LbForwardingMode.Dsr)
                    throw Error($"{path}.backends[{i}].address", $"{b.Address} is not of the VIP's address family ({vip.Mode.ToString().ToLowerInvariant()} cannot change it)");
            }
            var health = Array(e, path, "health").Select((h, i) =>
            {
                var hp = $"{path}.health[{i}]";
                Members(h, hp, "after", "backend", "state");
                var name = String(h, hp, "backend", required: true)!;
                if (vip.Backends.All(b => b.Name != name)) throw Error(Join(hp, "backend"), $"no backend named '{name}'");
                var after = Number(h, hp, "after") ?? throw Error(Join(hp, "after"), "missing (seconds after the first packet)");
                if (String(h, hp, "state", required: true) is not ("up" or "down")) throw Error(Join(hp, "state"), "expected \"up\" or \"down\"");
                return new LbHealthEvent(after, name, State(h, hp, "state", true));
            }).OrderBy(h => h.After).ToList();
            return vip with { Health = health };
        }

        private LbBackend Backend(JsonElement e, string path)
        {
            Members(e, path, "name", "address", "port", "weight", "state", "at", "mac", "guePort");
            var address = Address(e, path, "address", required: true)!.Value;
            var mac = String(e, path, "mac");
            var at = String(e, path, "at");
            if (at is not null && (at.Split('/') is not [{ Length: > 0 }, { Length: > 0 }]))
                throw Error(Join(path, "at"), $"'{at}': expected \"namespace/device\"");
            return new LbBackend
            {
                Name = String(e, path, "name") ?? address.ToString(),
                Address = address,
                Port = (ushort?)Integer(e, path, "port", 1, 65535),
                Weight = Integer(e, path, "weight", 0, 65535) ?? 1,
                Up = State(e, path, "state", true),
                At = at,
                Mac = mac is null ? null : MacAddress.TryParse(mac, out var m) ? m : throw Error(Join(path, "mac"), $"'{mac}' is not a MAC address"),
                GuePort = (ushort)(Integer(e, path, "guePort", 1, 65535) ?? LoadBalancerConfig.DefaultGuePort),
            };
        }
    }
}
