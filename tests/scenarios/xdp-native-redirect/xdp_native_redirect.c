// XDP program of the xdp-native-redirect scenario, attached in native (driver) mode on the host's
// veth eth0 (ifindex 2 in the host namespace: lo 1, eth0 2, eth1 3, eth2 4, br0 5, eth3 6, as the
// kernel numbers a new namespace's devices). UDP to port
//   7777  MACs rewritten for the server's link, bpf_redirect(3 = eth1, 0): xdp_do_redirect hands the
//         frame to eth1's ndo_xdp_xmit (veth_xdp_xmit; the server's eth0 has a native program, so NAPI)
//   7778  bpf_redirect(4 = eth2, 0): eth2's peer has no XDP program, so eth2 does not take xdp_frames
//   7779  bpf_redirect(5 = br0, 0): a bridge has no ndo_xdp_xmit
//   7780  addresses, ports and MACs swapped, XDP_TX: back to the client, whose eth0 has a native
//         program of its own (so veth_xdp_xmit takes the frame and the client's program runs on it)
//   7781  MACs rewritten, bpf_redirect_map(xnr_devmap, 0, XDP_DROP): slot 0, filled by bpftool in
//         lab.sh with eth1's ifindex
//   7782  bpf_redirect_map(xnr_devmap, 1, XDP_DROP): slot 1 is empty, the fallback XDP_DROP
//   7783  bpf_redirect(6 = eth3, 0): eth3 (MTU 1500) takes it, its peer (MTU 1000) may not
// everything else passes.
// Built once into xdp_native_redirect.o (committed) by:
//   /usr/lib/llvm-14/bin/clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c xdp_native_redirect.c -o xdp_native_redirect.o
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
} xnr_devmap SEC(".maps");

static void to_server(struct ethhdr *eth)
{
    const unsigned char server[ETH_ALEN] = {2, 0, 0, 0, 2, 2}, eth1[ETH_ALEN] = {2, 0, 0, 0, 2, 1};
    __builtin_memcpy(eth->h_dest, server, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth1, ETH_ALEN);
}

SEC("xdp")
int xdp_native_redirect(struct xdp_md *ctx)
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
    case 7777:
        to_server(eth);
        return bpf_redirect(3, 0);
    case 7778:
        return bpf_redirect(4, 0);
    case 7779:
        return bpf_redirect(5, 0);
    case 7780: {
        unsigned char mac[ETH_ALEN];
        __u32 addr = ip->saddr;
        __u16 port = udp->source;
        __builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
        __builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
        __builtin_memcpy(eth->h_source, mac, ETH_ALEN);
        ip->saddr = ip->daddr;
        ip->daddr = addr;
        udp->source = udp->dest;
        udp->dest = port;
        return XDP_TX;
    }
    case 7781:
        to_server(eth);
        return bpf_redirect_map(&xnr_devmap, 0, XDP_DROP);
    case 7782:
        return bpf_redirect_map(&xnr_devmap, 1, XDP_DROP);
    case 7783:
        return bpf_redirect(6, 0);
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
