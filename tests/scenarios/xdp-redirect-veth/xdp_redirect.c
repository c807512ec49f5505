// XDP program of the xdp-redirect-veth scenario, on the host's eth0 (ifindex 2 in the host
// namespace: lo 1, eth0 2, eth1 3, eth2 4, as the kernel numbers a new namespace's devices).
// UDP to port
//   7777  MACs rewritten for the server's link, bpf_redirect(3 = eth1, 0): sent out of eth1
//   7778  bpf_redirect(4 = eth2, 0): eth2 is down, the redirect fails and the frame is freed
//   7779  bpf_redirect(42, 0): no such device
//   7780  bpf_redirect(3, 1): XDP's bpf_redirect takes no flags and returns XDP_ABORTED
//   7781  bpf_redirect_map(devmap, 0, XDP_PASS): the map is empty (nothing fills it), so the
//         lookup misses and the fallback action in the flags' low bits, XDP_PASS, is returned
//   7782  bpf_redirect_map(devmap, 0, 0): the same miss with fallback XDP_ABORTED
//   7783  bpf_redirect_map(devhash, 3, XDP_DROP): a DEVMAP_HASH miss with fallback XDP_DROP
// everything else passes.
// Built once into xdp_redirect.o (committed) by:
//   /usr/lib/llvm-14/bin/clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c xdp_redirect.c -o xdp_redirect.o
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>

#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)23;
static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *)51;

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} devmap SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} devhash SEC(".maps");

SEC("xdp")
int xdp_redirect(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || eth->h_proto != __builtin_bswap16(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
        return XDP_PASS;
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > end)
        return XDP_PASS;
    switch (__builtin_bswap16(udp->dest)) {
    case 7777: {
        const unsigned char server[ETH_ALEN] = {2, 0, 0, 0, 2, 2}, eth1[ETH_ALEN] = {2, 0, 0, 0, 2, 1};
        __builtin_memcpy(eth->h_dest, server, ETH_ALEN);
        __builtin_memcpy(eth->h_source, eth1, ETH_ALEN);
        return bpf_redirect(3, 0);
    }
    case 7778:
        return bpf_redirect(4, 0);
    case 7779:
        return bpf_redirect(42, 0);
    case 7780:
        return bpf_redirect(3, 1);
    case 7781:
        return bpf_redirect_map(&devmap, 0, XDP_PASS);
    case 7782:
        return bpf_redirect_map(&devmap, 0, 0);
    case 7783:
        return bpf_redirect_map(&devhash, 3, XDP_DROP);
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
