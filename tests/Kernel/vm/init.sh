#!/bin/busybox sh
# shellcheck shell=dash
# /init of the recording VM's initramfs (record-in-vm.sh builds it): the host's / read-only (9p
# tag hostroot) under a tmpfs overlay becomes the guest's root, the checkout (tag repo) is mounted
# read-write at its host path and the staging directory (tag stage) at /pfvm-stage; then guest.sh
# of the checkout runs as the real init. Any failure powers the VM off (record-in-vm.sh then finds
# no result).
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "pfvm: $*"; poweroff -f; }
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in netfs 9pnet 9pnet_virtio 9p overlay; do insmod /mods/$m.ko || fail "insmod $m"; done
for a in $(cat /proc/cmdline); do
    case $a in
        pfvm.repo=*) REPO=${a#pfvm.repo=} ;;
    esac
done
[ -n "$REPO" ] || fail "no pfvm.repo= on the kernel command line"
P9="trans=virtio,version=9p2000.L,msize=262144"
mount -t 9p -o "$P9,ro,cache=loose" hostroot /mnt/lower || fail "mounting the host root"
mount -t tmpfs -o size=1g tmpfs /mnt/rw && mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work overlay /newroot \
    || fail "overlay"
mkdir -p "/newroot$REPO" /newroot/pfvm-stage
mount -t 9p -o "$P9" repo "/newroot$REPO" || fail "mounting the checkout"
mount -t 9p -o "$P9" stage /newroot/pfvm-stage || fail "mounting the staging directory"
umount /proc /sys /dev
exec switch_root /newroot /bin/bash "$REPO/tests/Kernel/vm/guest.sh"
