// Direct-action cls_bpf program of the tc-bpf-redirect-down scenario (tc ingress on the host's eth0,
// ifindex 2): bpf_redirect by UDP destination port, to eth1 (ifindex 3), a veth that is down, and
// eth2 (ifindex 4), one that is up; anything else goes on (TC_ACT_OK).
//   7777  bpf_redirect(3, 0): to eth1's transmit (__bpf_tx_skb -> dev_queue_xmit), eth1 down
//   7778  bpf_redirect(3, BPF_F_INGRESS): to eth1's receive (__bpf_rx_skb -> ____dev_forward_skb), eth1 down
//   7779  bpf_redirect(4, 0): to eth2's transmit: on to the server
//   7780  bpf_redirect(5, 0): eth3, up, whose veth peer in the dark namespace is down
// Built once into tc_redirect_down.o (committed) by:
//   /usr/lib/llvm-14/bin/clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c tc_redirect_down.c -o tc_redirect_down.o
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>

#define SEC(n) __attribute__((section(n), used))

static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect;

SEC("tc")
int tc_redirect(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || eth->h_proto != __builtin_bswap16(ETH_P_IP))
        return TC_ACT_OK;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
        return TC_ACT_OK;
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > end)
        return TC_ACT_OK;
    switch (__builtin_bswap16(udp->dest)) {
    case 7777: return bpf_redirect(3, 0);
    case 7778: return bpf_redirect(3, BPF_F_INGRESS);
    case 7779: return bpf_redirect(4, 0);
    case 7780: return bpf_redirect(5, 0);
    }
    return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
