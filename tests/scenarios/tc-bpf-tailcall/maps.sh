#!/bin/bash
# Runs this scenario's lab.sh and traffic.sh by hand in two namespaces of its own (PREFIX-host and
# PREFIX-client, PREFIX defaults to pfbpft) and writes bpftool-maps.json: `bpftool -j map dump` of
# every map of the program tc attached, taken after the traffic (record.sh does not keep BPF maps).
# BpfMapScenarioTests compares the model's maps after replaying wire.pcap with it.
#   sudo tests/scenarios/tc-bpf-tailcall/maps.sh [PREFIX]
set -u
D=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
P=${1:-pfbpft}
export PATH=$D/../../Kernel/bin:$PATH
W=
cleanup() {
    local n p
    for n in "$P-host" "$P-client"; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null; done
        ip netns del "$n" 2>/dev/null
    done
    [[ -z $W ]] || rm -rf "$W"
}
trap cleanup EXIT
cleanup
W=$(mktemp -d "/tmp/$P-maps.XXXXXX")
ip netns add "$P-host"
ip netns add "$P-client"
sed -e '/^ip netns add client/d' -e "s/netns exec client/netns exec $P-client/g" \
    -e "s/ip -n client/ip -n $P-client/g" -e "s/netns client\$/netns $P-client/" "$D/lab.sh" >"$W/lab.sh"
sed -e "s/netns exec client/netns exec $P-client/g" "$D/traffic.sh" >"$W/traffic.sh"
(cd "$D" && timeout 60 ip netns exec "$P-host" bash -e "$W/lab.sh") >"$W/lab.out" 2>&1 || { cat "$W/lab.out"; exit 1; }
timeout 60 ip netns exec "$P-host" bash "$W/traffic.sh" >"$W/traffic.out" 2>&1 || { cat "$W/traffic.out"; exit 1; }
id=$(ip netns exec "$P-host" tc filter show dev eth0 ingress | grep -o ' id [0-9]*' | awk '{print $2}')
python3 - "$id" >"$D/bpftool-maps.json" <<'PY'
import json, subprocess, sys
def bt(*a): return json.loads(subprocess.check_output(["bpftool", "-j", *a]))
prog = bt("prog", "show", "id", sys.argv[1])
out = []
for m in sorted(prog["map_ids"]):
    info = bt("map", "show", "id", str(m))
    entries = bt("map", "dump", "id", str(m))
    # BTF maps dump formatted values; the raw bytes come with -j only without BTF, so rebuild them
    def raw(x, size):
        b = [int(v, 16) for v in x] if isinstance(x, list) else list(int(x).to_bytes(size, "little"))
        return " ".join(f"{v:02x}" for v in b)
    rows = [{"key": raw(e["key"], info["bytes_key"]), "value": raw(e["value"], info["bytes_value"])} for e in entries]
    if info["type"] == "prog_array":
        rows = [{"key": r["key"], "value": prog["name"] if int.from_bytes(bytes.fromhex(r["value"]), "little") == prog["id"] else "other"} for r in rows]
    rows.sort(key=lambda r: r["key"])
    out.append({"name": info["name"], "type": info["type"], "key_size": info["bytes_key"], "value_size": info["bytes_value"],
                "max_entries": info["max_entries"], "entries": rows})
out.sort(key=lambda m: m["name"])
print(json.dumps(out, indent=1))
PY
