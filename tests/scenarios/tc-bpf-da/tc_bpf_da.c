// Direct-action cls_bpf program of the tc-bpf-da scenario (tc ingress on eth0): UDP to port 7777
// is dropped (TC_ACT_SHOT); TCP to port 80 gets skb->mark 0x42 (an nft rule matches it) and goes
// on (TC_ACT_OK); ICMP returns TC_ACT_UNSPEC, so the next filter (pref 20, section tc_len)
// classifies it: packets longer than 500 bytes are dropped there.
// Built once into tc_bpf_da.o (committed) by:
//   /usr/lib/llvm-14/bin/clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c tc_bpf_da.c -o tc_bpf_da.o
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>

#define SEC(n) __attribute__((section(n), used))

static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *)BPF_FUNC_skb_load_bytes;

SEC("tc")
int tc_bpf_da(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || skb->protocol != __builtin_bswap16(ETH_P_IP))
        return TC_ACT_OK;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->ihl != 5)
        return TC_ACT_OK;
    if (ip->protocol == IPPROTO_ICMP)
        return TC_ACT_UNSPEC;
    __u16 dport;
    if (bpf_skb_load_bytes(skb, sizeof(*eth) + sizeof(*ip) + 2, &dport, sizeof(dport)) < 0)
        return TC_ACT_OK;
    if (ip->protocol == IPPROTO_UDP && dport == __builtin_bswap16(7777))
        return TC_ACT_SHOT;
    if (ip->protocol == IPPROTO_TCP && dport == __builtin_bswap16(80)) {
        skb->mark = 0x42;
        skb->priority = skb->len;
    }
    return TC_ACT_OK;
}

SEC("tc_len")
int tc_drop_long(struct __sk_buff *skb)
{
    return skb->len > 500 ? TC_ACT_SHOT : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
