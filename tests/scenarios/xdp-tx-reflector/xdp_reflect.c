// XDP program of the xdp-tx-reflector scenario: an ICMP echo request to 10.1.0.1 is answered by the
// program itself (MACs and addresses swapped, type 8 -> 0, checksum adjusted) and sent back with
// XDP_TX; everything else passes to the stack.
// Built once into xdp_reflect.o (committed) by:
//   /usr/lib/llvm-14/bin/clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c xdp_reflect.c -o xdp_reflect.o
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>

#define SEC(n) __attribute__((section(n), used))
#define REFLECTED 0x0a010001 /* 10.1.0.1 */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8

/* the echo header of RFC 792 (linux/icmp.h pulls in libc headers that a BPF target lacks) */
struct icmp_echo {
    __u8 type, code;
    __u16 checksum, id, seq;
};

SEC("xdp")
int xdp_reflect(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || eth->h_proto != __builtin_bswap16(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_ICMP || ip->ihl != 5 || ip->daddr != __builtin_bswap32(REFLECTED))
        return XDP_PASS;
    struct icmp_echo *icmp = (void *)(ip + 1);
    if ((void *)(icmp + 1) > end || icmp->type != ICMP_ECHO || icmp->code != 0)
        return XDP_PASS;
    unsigned char mac[ETH_ALEN];
    __builtin_memcpy(mac, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
    __u32 a = ip->saddr;
    ip->saddr = ip->daddr;
    ip->daddr = a; /* the IP checksum does not change when its words are swapped */
    icmp->type = ICMP_ECHOREPLY;
    /* RFC 1624: the first word went from 0x0800 to 0x0000, so the checksum grows by 0x0800 */
    __u32 sum = (__u32)__builtin_bswap16(icmp->checksum) + 0x0800;
    sum = (sum & 0xffff) + (sum >> 16);
    icmp->checksum = __builtin_bswap16((__u16)sum);
    return XDP_TX;
}

char _license[] SEC("license") = "GPL";
