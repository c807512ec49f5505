// Test object for program arrays (built by build.sh): jmp's slot 0 names tc_b through libbpf's
// .values, so attaching tc_b loads (a program may fill a slot with itself) and attaching tc_a does
// not (iproute2 loads only the program it attaches: the slot cannot be filled). tc_b tail-calls
// slot 0 (itself) until the limit, then slot 5 (past max_entries) and returns how often it ran,
// counted in runs[0].
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_tail_call)(void *ctx, void *map, __u32 index) = (void *)BPF_FUNC_tail_call;

int tc_b(struct __sk_buff *skb);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __uint(pinning, 1);
    __type(key, __u32);
    __array(values, int (struct __sk_buff *));
} jmp SEC(".maps") = {
    .values = { [0] = (void *)&tc_b },
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} runs SEC(".maps");

SEC("tc/a")
int tc_a(struct __sk_buff *skb)
{
    bpf_tail_call(skb, &jmp, 0);
    return TC_ACT_OK;
}

SEC("tc/b")
int tc_b(struct __sk_buff *skb)
{
    __u32 zero = 0, *n = bpf_map_lookup_elem(&runs, &zero);
    if (!n)
        return TC_ACT_SHOT;
    *n += 1;
    bpf_tail_call(skb, &jmp, 0);
    bpf_tail_call(skb, &jmp, 5);
    return *n;
}

char _license[] SEC("license") = "GPL";
