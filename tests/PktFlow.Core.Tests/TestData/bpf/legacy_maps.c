// Test object for the loader: a legacy `maps` section (struct bpf_elf_map, as iproute2 reads it)
// and a tc classifier that counts packets and reads the packet through __sk_buff.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#define SEC(n) __attribute__((section(n), used))

struct bpf_elf_map {
    __u32 type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx;
};

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;

struct bpf_elf_map SEC("maps") counter = {
    .type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 1,
};

SEC("classifier")
int cls_count(struct __sk_buff *skb)
{
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(&counter, &key);
    if (v)
        *v += skb->len;
    return skb->len > 1000 ? TC_ACT_SHOT : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
