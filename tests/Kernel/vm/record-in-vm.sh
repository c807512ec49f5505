#!/bin/bash
# Records a scenario (tests/Kernel/record.sh) inside a stock Debian 6.12 kernel booted under qemu,
# for features this machine's kernel lacks (bridge VLAN filtering, 8021q, ipip, fou: see README.md).
#
#   sudo tests/Kernel/vm/record-in-vm.sh [--out DIR] [--timeout SECONDS] [--keep-work] SCENARIO
#
# The guest sees the host's / read-only (9p) under a tmpfs overlay, this checkout read-write (9p,
# multidevs=remap) at the same path, and a staging directory where record.sh writes wire.pcap and
# kernel.json and the guest writes its log and record.sh's exit status; they are copied to DIR
# (default tests/scenarios/SCENARIO). Exits with record.sh's status (124: the VM timed out).
# TCG emulation is slow: record.sh runs with PFREC_SLOW=PFVM_SLOW (default 20) and the VM may take
# --timeout seconds (default 2400). --keep-work copies record.sh's work files to DIR/work.
# PFVM_KERNEL (default 6.12.117+deb12-amd64) picks the Debian kernel package; PFVM_CACHE (default
# /var/cache/pktflow-vm) keeps the downloaded package, its files and the initramfs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
KVER=${PFVM_KERNEL:-6.12.117+deb12-amd64}
CACHE=${PFVM_CACHE:-/var/cache/pktflow-vm}
OUT=
VMTIME=2400
KEEP=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --out) OUT=$2; shift 2 ;;
        --timeout) VMTIME=$2; shift 2 ;;
        --keep-work) KEEP=1; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        -*) echo "record-in-vm.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[[ $# -eq 1 ]] || { echo "usage: record-in-vm.sh [--out DIR] [--timeout SECONDS] [--keep-work] SCENARIO" >&2; exit 2; }
SC=$1
[[ $SC =~ ^[a-z0-9][a-z0-9-]{0,38}$ ]] || { echo "record-in-vm.sh: bad scenario name '$SC'" >&2; exit 2; }
[[ -f $ROOT/tests/scenarios/$SC/scenario.json ]] || { echo "record-in-vm.sh: no scenario $SC" >&2; exit 2; }
[[ $KVER =~ ^[0-9][0-9a-z.+-]*-amd64$ ]] || { echo "record-in-vm.sh: bad PFVM_KERNEL '$KVER'" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "record-in-vm.sh: must run as root" >&2; exit 2; }
OUT=${OUT:-$ROOT/tests/scenarios/$SC}
log() { printf '[vm %s] %s\n' "$SC" "$*" >&2; }

need=()
for t in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod cpio:cpio xz:xz-utils; do
    command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
[[ -x /bin/busybox ]] && file -L /bin/busybox | grep -q 'statically linked' || need+=(busybox-static)
if ((${#need[@]})); then
    log "installing ${need[*]}"
    apt-get install -y -q "${need[@]}" >/dev/null
fi

# 1. the kernel package, unpacked once into $CACHE/KVER (never part of the repository)
KDIR=$CACHE/$KVER
mkdir -p "$CACHE"
exec 8>"$CACHE/.lock"
flock -w 600 8 || { log "cache $CACHE is locked"; exit 1; }
if [[ ! -f $KDIR/.done ]]; then
    log "fetching linux-image-$KVER"
    (cd "$CACHE" && apt-get download "linux-image-$KVER") >&2
    rm -rf "$KDIR"
    mkdir -p "$KDIR"
    dpkg-deb -x "$CACHE"/linux-image-"${KVER}"_*.deb "$KDIR/root"
    depmod -b "$KDIR/root" "$KVER"
    touch "$KDIR/.done"
fi
VMLINUZ=$KDIR/root/boot/vmlinuz-$KVER
MODDIR=$KDIR/root/lib/modules/$KVER

# 2. the initramfs: static busybox, the 9p and overlay modules, init.sh
INITRD=$KDIR/initrd-$(sha256sum "$HERE/init.sh" | cut -c1-12).gz
if [[ ! -f $INITRD ]]; then
    log "building $INITRD"
    T=$(mktemp -d)
    mkdir -p "$T"/{bin,mods,proc,sys,dev,mnt/lower,mnt/rw,newroot}
    cp /bin/busybox "$T/bin/busybox"
    for m in netfs 9pnet 9pnet_virtio 9p overlay; do
        f=$(find "$MODDIR" -name "$m.ko*" | head -1)
        [[ -n $f ]] || { log "module $m not in $KVER"; rm -rf "$T"; exit 1; }
        case $f in
            *.xz) xz -dc "$f" >"$T/mods/$m.ko" ;;
            *.zst) zstd -qdc "$f" >"$T/mods/$m.ko" ;;
            *) cp "$f" "$T/mods/$m.ko" ;;
        esac
    done
    install -m 755 "$HERE/init.sh" "$T/init"
    (cd "$T" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp"
    mv "$INITRD.tmp" "$INITRD"
    rm -rf "$T"
fi
exec 8>&-

# 3. boot: record.sh runs in the guest (guest.sh) and leaves its results in the staging directory
STAGE=$(mktemp -d /tmp/pfvm-"$SC".XXXXXX)
trap 'rm -rf "$STAGE"' EXIT
log "booting $KVER (TCG; log in $STAGE/console.log while it runs)"
rc=0
timeout --foreground -k 10 "$VMTIME" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 2048 \
    -smp "${PFVM_SMP:-2}" -nographic -no-reboot -nic none \
    -kernel "$VMLINUZ" -initrd "$INITRD" \
    -append "console=ttyS0 quiet panic=-1 pfvm.repo=$ROOT pfvm.scenario=$SC pfvm.kver=$KVER pfvm.moddir=$MODDIR pfvm.slow=${PFVM_SLOW:-20} pfvm.keep=$KEEP" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$ROOT,mount_tag=repo,security_model=none,multidevs=remap" \
    -virtfs "local,path=$STAGE,mount_tag=stage,security_model=none" \
    </dev/null >"$STAGE/console.log" 2>&1 || rc=$?
if [[ ! -f $STAGE/rc ]]; then
    tail -n 40 "$STAGE/console.log" >&2
    [[ -f $STAGE/record.log ]] && tail -n 40 "$STAGE/record.log" >&2
    ((rc == 124)) && { log "the VM did not finish in ${VMTIME}s"; exit 124; }
    log "the guest ended without a result (qemu status $rc)"
    exit 1
fi
cat "$STAGE/record.log" >&2
rc=$(cat "$STAGE/rc")
if ((rc == 0)); then
    mkdir -p "$OUT"
    cp "$STAGE/out/wire.pcap" "$STAGE/out/kernel.json" "$OUT/"
    # --keep-work: record.sh's work files (the guest's /tmp is gone), to run lib/analyze.py on again
    if [[ $KEEP == 1 && -d $STAGE/work ]]; then
        rm -rf "$OUT/work" && cp -a "$STAGE/work" "$OUT/work" && log "work files kept in $OUT/work"
    fi
    log "wrote $OUT/wire.pcap and $OUT/kernel.json (kernel $KVER)"
fi
exit "$rc"
