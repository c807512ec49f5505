// XDP program of the xdp-native-veth scenario, attached in native (driver) mode on a veth: UDP to
// 7777 is dropped, UDP to 7778 is sent back with XDP_TX (MACs swapped), UDP to 7779 is aborted,
// everything else passes. Built once into xdp_native.o (committed) by:
//   /usr/lib/llvm-14/bin/clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c xdp_native.c -o xdp_native.o
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>

#define SEC(n) __attribute__((section(n), used))

SEC("xdp")
int xdp_native(struct xdp_md *ctx)
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
    if (udp->dest == __builtin_bswap16(7777))
        return XDP_DROP;
    if (udp->dest == __builtin_bswap16(7779))
        return XDP_ABORTED;
    if (udp->dest == __builtin_bswap16(7778)) {
        unsigned char tmp[ETH_ALEN];
        __builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
        __builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
        __builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
        return XDP_TX;
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
