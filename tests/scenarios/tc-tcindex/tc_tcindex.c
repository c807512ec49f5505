// Programs of the tc-tcindex scenario. sch_handle_ingress (tc_run) sets skb->tc_index to
// TC_H_MIN(res.classid) when classification ends with TC_ACT_OK; a later tc program reads it.
// set_classid runs as a direct-action cls_bpf on eth0 ingress (classid 2:8): res.classid is then
// TC_H_MAJ of the filter's classid | skb->tc_classid as the program left it (it starts as 2:8).
// by_index runs on eth1 egress, after forwarding, and drops what tc_index ties to its port.
// Built once into tc_tcindex.o (committed) by:
//   /usr/lib/llvm-14/bin/clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c tc_tcindex.c -o tc_tcindex.o
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>

#define SEC(n) __attribute__((section(n), used))

static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *)BPF_FUNC_skb_load_bytes;

// The UDP destination port of an IPv4 packet (host order); 0 for anything else.
static __attribute__((always_inline)) __u16 udp_dport(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || skb->protocol != __builtin_bswap16(ETH_P_IP))
        return 0;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
        return 0;
    __u16 p;
    if (bpf_skb_load_bytes(skb, sizeof(*eth) + sizeof(*ip) + 2, &p, sizeof(p)) < 0)
        return 0;
    return __builtin_bswap16(p);
}

// eth0 ingress pref 30 (da, classid 2:8): UDP to 7003 writes tc_classid 7 (res.classid 2:7),
// UDP to 7004 leaves it (2:8); both end with TC_ACT_OK. Anything else: TC_ACT_UNSPEC (no match,
// tc_index stays as it was).
SEC("set_classid")
int tc_set_classid(struct __sk_buff *skb)
{
    __u16 d = udp_dport(skb);
    if (d == 7003) {
        skb->tc_classid = 7;
        return TC_ACT_OK;
    }
    if (d == 7004)
        return TC_ACT_OK;
    return TC_ACT_UNSPEC;
}

// eth1 egress (da): drops a UDP datagram whose tc_index is its port - 6996 (7001: 5, 7003: 7,
// 7004: 8), passes the rest (7002: tc_index 0x16, 7005: 0).
SEC("by_index")
int tc_by_index(struct __sk_buff *skb)
{
    __u16 d = udp_dport(skb);
    if (d != 0 && skb->tc_index == (__u32)(d - 6996))
        return TC_ACT_SHOT;
    return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
