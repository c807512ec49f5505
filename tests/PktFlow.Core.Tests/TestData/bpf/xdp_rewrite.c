// Test object for XDP take-back: sec "xdp/shrink" cuts 2 bytes off the tail, sec "xdp/pop" moves the
// head past the Ethernet header and writes a new one there (same addresses, EtherType kept).
#include <linux/bpf.h>
#include <linux/if_ether.h>

#define SEC(n) __attribute__((section(n), used))

static long (*bpf_xdp_adjust_head)(struct xdp_md *ctx, int delta) = (void *)44;
static long (*bpf_xdp_adjust_tail)(struct xdp_md *ctx, int delta) = (void *)65;

SEC("xdp/shrink")
int shrink(struct xdp_md *ctx)
{
    return bpf_xdp_adjust_tail(ctx, -2) ? XDP_ABORTED : XDP_PASS;
}

SEC("xdp/pop")
int pop(struct xdp_md *ctx)
{
    unsigned char mac[12];
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    if (data + 14 > end)
        return XDP_PASS;
    __builtin_memcpy(mac, data, 12);
    if (bpf_xdp_adjust_head(ctx, -4))
        return XDP_ABORTED;
    data = (void *)(long)ctx->data;
    end = (void *)(long)ctx->data_end;
    if (data + 18 > end)
        return XDP_ABORTED;
    __builtin_memcpy(data, mac, 12);
    // an 802.1Q tag, VID 5, in front of the original EtherType (left at offset 16)
    ((unsigned char *)data)[12] = 0x81;
    ((unsigned char *)data)[13] = 0x00;
    ((unsigned char *)data)[14] = 0x00;
    ((unsigned char *)data)[15] = 0x05;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
