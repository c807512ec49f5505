// XDP program of the xdp-native-redirect scenario for the veths that receive xdp_frames (the client's
// and the server's eth0, small's eth0): a native program gives a veth its NAPI, without which its peer
// refuses xdp_frames (veth_xdp_xmit). It passes everything.
// Built once into xdp_pass.o (committed) by:
//   /usr/lib/llvm-14/bin/clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c xdp_pass.c -o xdp_pass.o
#include <linux/bpf.h>

#define SEC(n) __attribute__((section(n), used))

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
