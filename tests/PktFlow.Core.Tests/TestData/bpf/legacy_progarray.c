// Test object for the loader (built by build.sh): a program array in the legacy `maps` section with
// a program in iproute2's "ID/KEY" tail call section, which tc with libbpf 1.x cannot load.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#define SEC(n) __attribute__((section(n), used))

struct bpf_elf_map {
    __u32 type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx;
};

static long (*bpf_tail_call)(void *ctx, void *map, __u32 index) = (void *)BPF_FUNC_tail_call;

struct bpf_elf_map SEC("maps") jmp = {
    .type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 4, .id = 1,
};

SEC("1/0")
int tail(struct __sk_buff *skb)
{
    return TC_ACT_SHOT;
}

SEC("classifier")
int entry(struct __sk_buff *skb)
{
    bpf_tail_call(skb, &jmp, 0);
    return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
