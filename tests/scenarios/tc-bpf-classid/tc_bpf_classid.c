// Programs of the tc-bpf-classid scenario (tc ingress on eth0). Three run as cls_bpf without
// direct-action (`bpf obj tc_bpf_classid.o sec cls ...`): the return value is a classid (0: no
// match, the next filter; -1: the filter's own classid; anything else: that classid) and on a match
// the filter's actions run (none: TC_ACT_OK, the classification ends). The last (pref 30) is a
// direct-action program that drops what reaches it, but for a short ping and TCP to 23.
// (act_bpf is not here: the 6.18 recording kernel has no CONFIG_NET_ACT_BPF.)
// Built once into tc_bpf_classid.o (committed) by:
//   /usr/lib/llvm-14/bin/clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c tc_bpf_classid.c -o tc_bpf_classid.o
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>

#define SEC(n) __attribute__((section(n), used))

static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *)BPF_FUNC_skb_load_bytes;

// The IPv4 protocol and, for TCP and UDP, the destination port (host order); 0 for anything else.
static __attribute__((always_inline)) int l4(struct __sk_buff *skb, __u8 *proto, __u16 *dport)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    *proto = 0;
    *dport = 0;
    if ((void *)(eth + 1) > end || skb->protocol != __builtin_bswap16(ETH_P_IP))
        return 0;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->ihl != 5)
        return 0;
    *proto = ip->protocol;
    if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
        return 1;
    __u16 p;
    if (bpf_skb_load_bytes(skb, sizeof(*eth) + sizeof(*ip) + 2, &p, sizeof(p)) < 0)
        return 0;
    *dport = __builtin_bswap16(p);
    return 1;
}

// pref 10 (action mirred egress mirror dev eth1 drop): UDP to 7777 matches with classid 1:10
SEC("cls")
int cls_udp(struct __sk_buff *skb)
{
    __u8 proto; __u16 dport;
    l4(skb, &proto, &dport);
    return proto == IPPROTO_UDP && dport == 7777 ? 0x10010 : 0;
}

// pref 20 (classid 1:1, no actions): TCP to 80 matches with -1, the filter's classid: TC_ACT_OK,
// pref 30 never sees it
SEC("cls_dflt")
int cls_tcp80(struct __sk_buff *skb)
{
    __u8 proto; __u16 dport;
    l4(skb, &proto, &dport);
    return proto == IPPROTO_TCP && dport == 80 ? -1 : 0;
}

// pref 25 (classid 1:2, no actions): UDP to 7779 matches with classid 1:3; TCP to 23 does not
// match but keeps the mark 0x42 the program gives it (the nft input chain drops it)
SEC("cls_ok")
int cls_udp7779(struct __sk_buff *skb)
{
    __u8 proto; __u16 dport;
    l4(skb, &proto, &dport);
    if (proto == IPPROTO_TCP && dport == 23)
        skb->mark = 0x42;
    return proto == IPPROTO_UDP && dport == 7779 ? 0x10003 : 0;
}

// pref 30, direct-action: a short ping and TCP to 23 pass, everything else IPv4 is dropped
SEC("da_drop")
int da_last(struct __sk_buff *skb)
{
    __u8 proto; __u16 dport;
    if (!l4(skb, &proto, &dport))
        return TC_ACT_OK;
    if (proto == IPPROTO_ICMP)
        return skb->len > 500 ? TC_ACT_SHOT : TC_ACT_OK;
    if (proto == IPPROTO_TCP && dport == 23)
        return TC_ACT_OK;
    return TC_ACT_SHOT;
}

char _license[] SEC("license") = "GPL";
