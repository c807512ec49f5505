#!/bin/bash
# shellcheck disable=SC2154  # PFVM_* are declared from the kernel command line
# The recording VM's init after switch_root (see init.sh): mounts what tests/Kernel/record.sh needs,
# makes the unpacked kernel package's modules loadable (record.sh and the kernel's own module
# requests call modprobe), runs record.sh for the scenario named on the kernel command line with its
# output in /pfvm-stage, and powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
STAGE=/pfvm-stage
mount -t proc proc /proc
# pfvm.repo= pfvm.scenario= pfvm.kver= pfvm.moddir= pfvm.slow= (record-in-vm.sh) become PFVM_repo ...
for a in $(</proc/cmdline); do
    case $a in
        pfvm.*=*) k=${a%%=*}; declare "PFVM_${k#pfvm.}=${a#*=}" ;;
    esac
done
finish() {   # finish STATUS: leave the status for record-in-vm.sh and power off
    echo "$1" >"$STAGE/rc"
    sync
    echo o >/proc/sysrq-trigger
    sleep 30
}
exec >"$STAGE/record.log" 2>&1
set -x
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s fd/0 /dev/stdin; ln -s fd/1 /dev/stdout; ln -s fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p "/lib/modules/$PFVM_kver"
mount --bind "$PFVM_moddir" "/lib/modules/$PFVM_kver" || finish 1
[[ $(uname -r) == "$PFVM_kver" ]] || { echo "pfvm: running $(uname -r), expected $PFVM_kver"; finish 1; }
# built into the kernel the other scenarios were recorded on (so br_netfilter's sysctls exist in
# every namespace from the start, as there), and fou and 8021q (`ip fou add` finds no generic
# netlink family "fou" otherwise: fou.ko has no alias to be loaded by); modules that make a
# device in every namespace when loaded (ipip: tunl0, ip6_tunnel: ip6tnl0, sit, gre) are left to
# the kernel's on-demand loading, as the model's lab loader does (LoadIpipModule)
for m in bridge br_netfilter veth 8021q fou nf_tables nf_conntrack nf_nat nf_reject_ipv4 nf_reject_ipv6 nft_compat; do
    modprobe "$m" || echo "pfvm: modprobe $m failed"
done
ip link set lo up
hostname pfvm
set +x
echo "pfvm: kernel $(uname -r), recording $PFVM_scenario"
start=$(date +%s)
keep=()
[[ ${PFVM_keep:-0} == 1 ]] && keep=(--keep-work)
cd "$PFVM_repo" && PFREC_SLOW=$PFVM_slow tests/Kernel/record.sh --out "$STAGE/out" "${keep[@]}" "$PFVM_scenario"
rc=$?
# record.sh --keep-work left its work directory in the guest's /tmp (a tmpfs): hand it over
[[ ${PFVM_keep:-0} == 1 ]] && for w in /tmp/pfrec-"$PFVM_scenario".*; do [[ -d $w ]] && cp -a "$w" "$STAGE/work"; done
echo "pfvm: record.sh exited $rc after $(($(date +%s) - start)) s"
finish "$rc"
