// Direct-action cls_bpf program of the tc-bpf-tailcall scenario (tc ingress on eth0), dispatching by
// IP protocol through program arrays. tc (iproute2 6.1 with libbpf 1.1) loads only the program it
// attaches, so libbpf can fill a slot (.values) with that program alone: the slots hold tc_entry
// itself, and a tail call re-enters it from the top with the same __sk_buff. skb->mark tells the
// runs apart (veth clears it between namespaces, so it is 0 at the first run): 0x10000 + the tail
// calls made so far.
// jmp is pinned (LIBBPF_PIN_BY_NAME): its slots 6 (TCP) and 17 (UDP) stay filled. jmp_nopin is not:
// when tc exits, the last user reference to it goes and the kernel empties it (map_release_uref ->
// bpf_fd_array_map_clear), so ICMP's tail call through its slot 1 falls through and the packet
// passes (a re-entered ICMP packet would be dropped). Re-entered, the program drops TCP to port 80
// and UDP whose payload starts with "DROP"; UDP without 4 payload bytes makes the LD_IND load fail,
// which ends the program with 0 (TC_ACT_OK); UDP to 9999 tail-calls itself until the kernel refuses
// (MAX_TAIL_CALL_CNT) and is dropped if exactly 33 calls succeeded. Packet bytes are read with the
// legacy LD_ABS / LD_IND loads (load_byte/half/word). hits counts: 0 first runs, 1 TCP, 2 UDP,
// 3 drops; chain holds the depth the UDP 9999 chain reached; ports counts (protocol << 16 | port).
// Built once into tc_tailcall.o (committed) by:
//   /usr/lib/llvm-14/bin/clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c tc_tailcall.c -o tc_tailcall.o
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)BPF_FUNC_map_update_elem;
static long (*bpf_tail_call)(void *ctx, void *map, __u32 index) = (void *)BPF_FUNC_tail_call;

int tc_entry(struct __sk_buff *skb);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 32);
    __type(key, __u32);
    __uint(pinning, 1); // LIBBPF_PIN_BY_NAME
    __array(values, int (struct __sk_buff *));
} jmp SEC(".maps") = {
    .values = { [IPPROTO_TCP] = (void *)&tc_entry, [IPPROTO_UDP] = (void *)&tc_entry },
};
struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, int (struct __sk_buff *));
} jmp_nopin SEC(".maps") = {
    .values = { [IPPROTO_ICMP] = (void *)&tc_entry },
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} chain SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} ports SEC(".maps");

#define FIRST 0x10000

static __attribute__((always_inline)) void hit(__u32 i)
{
    __u64 *v = bpf_map_lookup_elem(&hits, &i);
    if (v)
        __sync_fetch_and_add(v, 1);
}

static __attribute__((always_inline)) void port(__u32 proto, __u32 dport)
{
    __u32 key = proto << 16 | dport;
    __u64 one = 1, *v = bpf_map_lookup_elem(&ports, &key);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&ports, &key, &one, BPF_ANY);
}

SEC("tc")
int tc_entry(struct __sk_buff *skb)
{
    if (skb->protocol != __builtin_bswap16(ETH_P_IP))
        return TC_ACT_OK;
    __u32 mark = skb->mark;
    __u32 proto = load_byte(skb, ETH_HLEN + 9);
    if (mark < FIRST) {
        hit(0);
        skb->mark = FIRST;
        if (proto == IPPROTO_ICMP)
            bpf_tail_call(skb, &jmp_nopin, proto);
        else
            bpf_tail_call(skb, &jmp, proto);
        skb->mark = mark; // no slot for this protocol: the call fell through
        return TC_ACT_OK;
    }
    if (proto == IPPROTO_ICMP) {
        hit(3);
        skb->mark = 0;
        return TC_ACT_SHOT;
    }
    __u32 l4 = ETH_HLEN + (load_byte(skb, ETH_HLEN) & 0xf) * 4;
    __u32 dport = load_half(skb, l4 + 2);
    if (mark == FIRST) {
        hit(proto == IPPROTO_TCP ? 1 : 2);
        port(proto, dport);
    }
    skb->mark = 0;
    if (proto == IPPROTO_TCP && dport == 80) {
        hit(3);
        return TC_ACT_SHOT;
    }
    if (proto == IPPROTO_UDP && dport == 9999) {
        skb->mark = mark + 1;
        bpf_tail_call(skb, &jmp, IPPROTO_UDP);
        // the kernel refused the call: mark - FIRST + 1 calls were made
        __u32 zero = 0, *depth = bpf_map_lookup_elem(&chain, &zero);
        if (depth)
            *depth = mark - FIRST + 1;
        skb->mark = 0;
        return mark - FIRST + 1 == 33 ? TC_ACT_SHOT : TC_ACT_OK;
    }
    if (proto == IPPROTO_UDP && load_word(skb, l4 + 8) == 0x44524f50) { // "DROP"
        hit(3);
        return TC_ACT_SHOT;
    }
    return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
