// Test object for cls_bpf direct-action programs (TcBpfTests): sections per behaviour.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#define SEC(n) __attribute__((section(n), used))

static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *)BPF_FUNC_skb_load_bytes;
static long (*bpf_skb_store_bytes)(void *skb, __u32 offset, const void *from, __u32 len, __u64 flags) = (void *)BPF_FUNC_skb_store_bytes;
static long (*bpf_l3_csum_replace)(void *skb, __u32 offset, __u64 from, __u64 to, __u64 size) = (void *)BPF_FUNC_l3_csum_replace;
static long (*bpf_l4_csum_replace)(void *skb, __u32 offset, __u64 from, __u64 to, __u64 flags) = (void *)BPF_FUNC_l4_csum_replace;
static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect;

// bpf_redirect to ifindex 3 (the test lab's eth1): its egress, or its ingress with BPF_F_INGRESS
SEC("tc/redirect")
int redirect_out(struct __sk_buff *skb) { return bpf_redirect(3, 0); }
SEC("tc/redirect_in")
int redirect_in(struct __sk_buff *skb) { return bpf_redirect(3, BPF_F_INGRESS); }
// a flag bpf_redirect does not know: TC_ACT_SHOT
SEC("tc/redirect_bad")
int redirect_bad(struct __sk_buff *skb) { return bpf_redirect(3, 2); }
// skb->hash is not modelled
SEC("tc/hash")
int hash(struct __sk_buff *skb) { return skb->hash ? TC_ACT_SHOT : TC_ACT_OK; }
// cb[], tc_index and priority are kept for the next filter; TC_ACT_PIPE is taken as UNSPEC
SEC("tc/cb")
int cb_set(struct __sk_buff *skb)
{
    skb->cb[0] = 7;
    skb->tc_index = 5;
    skb->priority = 0x10002;
    return TC_ACT_PIPE;
}
SEC("tc/cb_read")
int cb_read(struct __sk_buff *skb) { return skb->cb[0] == 7 && skb->tc_index == 5 ? TC_ACT_SHOT : TC_ACT_OK; }
// rewrites an IPv4/UDP destination to 10.1.0.99 with incremental checksum updates
SEC("tc/nat")
int nat(struct __sk_buff *skb)
{
    __u32 old, new = __builtin_bswap32(0x0a010063);
    if (bpf_skb_load_bytes(skb, 14 + 16, &old, 4) < 0)
        return TC_ACT_SHOT;
    bpf_l4_csum_replace(skb, 14 + 20 + 6, old, new, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4);
    bpf_l3_csum_replace(skb, 14 + 10, old, new, 4);
    bpf_skb_store_bytes(skb, 14 + 16, &new, 4, 0);
    return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
