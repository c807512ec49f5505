// Test object for the BPF loader and XDP: BTF-defined maps, a .rodata format string, a call into
// .text, packet reads and writes. Built by build.sh with clang -O2 -g -target bpf -c.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>

#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u16);
    __type(value, __u64);
} ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} verdicts SEC(".maps");

static __attribute__((noinline)) int count(__u32 verdict)
{
    __u64 *v = bpf_map_lookup_elem(&verdicts, &verdict);
    if (v)
        __sync_fetch_and_add(v, 1);
    return verdict;
}

SEC("xdp")
int xdp_udp(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || eth->h_proto != __builtin_bswap16(ETH_P_IP))
        return count(XDP_PASS);
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP)
        return count(XDP_PASS);
    struct udphdr *udp = (void *)ip + ip->ihl * 4;
    if ((void *)(udp + 1) > end)
        return count(XDP_ABORTED);
    __u16 port = __builtin_bswap16(udp->dest);
    __u64 one = 1, *n = bpf_map_lookup_elem(&ports, &port);
    if (n)
        *n += 1;
    else
        bpf_map_update_elem(&ports, &port, &one, BPF_ANY);
    const char fmt[] = "udp to %d\n";
    bpf_trace_printk(fmt, sizeof(fmt), port);
    if (port == 7777)
        return count(XDP_DROP);
    return count(XDP_PASS);
}

char _license[] SEC("license") = "GPL";
