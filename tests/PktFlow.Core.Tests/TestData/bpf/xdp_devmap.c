// Test object for XDP_TX and XDP_REDIRECT through maps (XdpRedirectMapTests): a DEVMAP, a
// DEVMAP_HASH, an XSKMAP and a CPUMAP, one section per way of using them.
#include <linux/bpf.h>

#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *)51;

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} devs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} devhash SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} xsks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_CPUMAP);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} cpus SEC(".maps");

SEC("xdp/devmap")
int devmap(struct xdp_md *ctx) { return bpf_redirect_map(&devs, 0, XDP_PASS); }

SEC("xdp/devhash")
int devhash_prog(struct xdp_md *ctx) { return bpf_redirect_map(&devhash, 7, XDP_DROP); }

SEC("xdp/xsk")
int xsk(struct xdp_md *ctx) { return bpf_redirect_map(&xsks, 0, XDP_PASS); }

SEC("xdp/cpu")
int cpu(struct xdp_md *ctx) { return bpf_redirect_map(&cpus, 0, XDP_PASS); }

SEC("xdp/broadcast")
int broadcast(struct xdp_md *ctx) { return bpf_redirect_map(&devs, 0, BPF_F_BROADCAST); }

SEC("xdp/update")
int update(struct xdp_md *ctx)
{
    __u32 k = 0, v = 3;
    bpf_map_update_elem(&devs, &k, &v, 0);
    return XDP_PASS;
}

SEC("xdp/notarget")
int notarget(struct xdp_md *ctx) { return XDP_REDIRECT; }

SEC("xdp/tx")
int tx(struct xdp_md *ctx) { return XDP_TX; }

char _license[] SEC("license") = "GPL";
