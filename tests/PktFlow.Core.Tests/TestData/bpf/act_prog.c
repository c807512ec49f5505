// Test object for act_bpf programs (ActBpfTests): each section returns one TC_ACT_* code.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#define SEC(n) __attribute__((section(n), used))

static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect;

SEC("act/ok")
int act_ok(struct __sk_buff *skb) { return TC_ACT_OK; }
SEC("act/shot")
int act_shot(struct __sk_buff *skb) { return TC_ACT_SHOT; }
// marks the packet and lets the next action run
SEC("act/pipe")
int act_pipe(struct __sk_buff *skb) { skb->mark = 7; return TC_ACT_PIPE; }
// the action's own control decides
SEC("act/unspec")
int act_unspec(struct __sk_buff *skb) { return TC_ACT_UNSPEC; }
// not a code act_bpf passes on: TC_ACT_UNSPEC
SEC("act/stolen")
int act_stolen(struct __sk_buff *skb) { return TC_ACT_STOLEN; }
SEC("act/reclassify")
int act_reclassify(struct __sk_buff *skb) { return TC_ACT_RECLASSIFY; }
// to ifindex 3 (the test lab's eth1)
SEC("act/redirect")
int act_redirect(struct __sk_buff *skb) { return bpf_redirect(3, 0); }
// marks the packet, and drops it when an earlier action marked it already
SEC("act/mark_twice")
int act_mark_twice(struct __sk_buff *skb) { if (skb->mark == 7) return TC_ACT_SHOT; skb->mark = 7; return TC_ACT_OK; }

char _license[] SEC("license") = "GPL";
