#!/usr/bin/env bash
# A busybox initramfs that loads 9p, overlay, dummy_hcd (four instances) and raw_gadget from the
# unpacked Debian kernel package and chroots into the host's root (9p, read-only, with a tmpfs
# overlay), where it runs $BENCH (a script path on the kernel command line) and powers off.
# Usage: initramfs.sh KPKG_DIR RAW_GADGET_KO OUT.cpio.gz
set -euo pipefail
KPKG=$(readlink -f "$1"); KO=$(readlink -f "$2"); OUT=$3
KVER=$(ls "$KPKG/lib/modules")
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir -p "$W"/{bin,proc,sys,dev,mods,host,newroot,upper}
cp /bin/busybox "$W/bin/busybox"
depmod -b "$KPKG" "$KVER"
for m in virtio_pci 9pnet_virtio 9p overlay dummy_hcd; do
    modprobe -d "$KPKG" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
    cp "$ko" "$W/mods/"
    # Four UDC/HCD pairs (dummy_udc.N, each on its own bus): the bench plugs in up to four
    # boards at once.
    case $(basename "$ko") in dummy_hcd.ko*) echo "$(basename "$ko") num=4" ;; *) basename "$ko" ;; esac >>"$W/mods/order"
done
cp "$KO" "$W/mods/"; basename "$KO" >>"$W/mods/order"
cat >"$W/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
while read -r m params; do insmod /mods/$m $params || echo "init: insmod $m failed"; done </mods/order
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /host || { echo "init: 9p failed"; poweroff -f; }
mount -t tmpfs tmpfs /upper && mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/host,upperdir=/upper/u,workdir=/upper/w /newroot || mount --bind /host /newroot
# /tmp stays the host's (through the writable overlay): the checkout may live there.
mount -t tmpfs tmpfs /newroot/run
mkdir -p "/newroot$BENCH_DIR"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 bench "/newroot$BENCH_DIR"
mount --move /proc /newroot/proc; mount --move /sys /newroot/sys; mount --move /dev /newroot/dev
chroot /newroot /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    BENCH_DIR="$BENCH_DIR" TOP="$TOP" SCALE="$SCALE" /bin/bash "${BENCH:-/dev/null}"
echo "init: bench exit $?"
poweroff -f
INIT
chmod +x "$W/init"
(cd "$W" && find . | cpio -o -H newc --quiet | gzip -1 >"$OUT")
