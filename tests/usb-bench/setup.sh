#!/usr/bin/env bash
# Prepares the USB bench (cached in $BENCH_DIR, default target/usb-bench): Debian's kernel
# (downloaded and unpacked, never installed), raw_gadget built out of tree from Debian's
# linux-source, an uncompressed vmlinux for a fast PVH boot, a busybox initramfs, and the
# release builds of dfuflash and the gadget program. Needs root (apt-get).
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
B=${BENCH_DIR:-$top/target/usb-bench}
mkdir -p "$B/debs"
apt_who=usb-bench
# shellcheck source=scripts/apt.sh
source scripts/apt.sh
pkgs=(qemu-system-x86 busybox-static dfu-util kmod cpio xz-utils make gcc libusb-1.0-0-dev pkg-config)
missing=()
# The kernel: the one linux-image-amd64 depends on in apt's lists.
bench_kernel() {
    KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    KVER=${KPKG#linux-image-}
    SRCPKG=linux-source-$(echo "$KVER" | cut -d. -f1,2)
    # Its name has no ABI number: a .deb kept from an older kernel must not pass for this one.
    SRCVER=$(apt-cache policy "$SRCPKG" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {print $2}')
}
bench_stale() {
    [ ! -f "$B/vmlinux" ] || [ ! -f "$B/rawgadget/raw_gadget.ko" ] || [ ! -d "$B/kpkg/lib/modules" ] ||
        [ "$(cat "$B/kver" 2>/dev/null)" != "$KVER" ]
}
# Installs what is missing (the kernel's headers included) and downloads the kernel's packages
# when the bench must be rebuilt. Fails on old lists: files the mirror dropped, or a kernel
# that is no longer the current one.
bench_fetch() {
    [ -n "$KPKG" ] && [ -n "$SRCVER" ] || return 1
    missing=()
    for p in "${pkgs[@]}" "linux-headers-$KVER"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then apt_try_install --no-install-recommends "${missing[@]}" || return 1; fi
    bench_stale || return 0
    { compgen -G "$B/debs/${KPKG}_*.deb" >/dev/null || apt_download "$B/debs" "$KPKG"; } &&
        { compgen -G "$B/debs/${SRCPKG}_${SRCVER}_*.deb" >/dev/null || {
            rm -f "$B/debs/${SRCPKG}"_*.deb
            apt_download "$B/debs" "$SRCPKG=$SRCVER"
        }; }
}
apt_lists
bench_kernel
if ! bench_fetch; then
    apt_update
    bench_kernel
    bench_fetch || apt_fail "Debian's ${KPKG:-linux-image-amd64}, $SRCPKG and ${missing[*]} (apt-get install or download failed)" "apt-get update"
fi
if bench_stale; then
    rm -rf "$B/kpkg" && mkdir -p "$B/kpkg" && dpkg -x "$B/debs/${KPKG}"_*.deb "$B/kpkg"
    mkdir -p "$B/rawgadget"
    dpkg-deb --fsys-tarfile "$B/debs/${SRCPKG}_${SRCVER}"_*.deb | tar -xO "./usr/src/$SRCPKG.tar.xz" |
        tar -xJO "$SRCPKG/drivers/usb/gadget/legacy/raw_gadget.c" >"$B/rawgadget/raw_gadget.c"
    echo 'obj-m := raw_gadget.o' >"$B/rawgadget/Kbuild"
    make -s -C "/usr/src/linux-headers-$KVER" M="$B/rawgadget" modules >/dev/null
    # The bzImage is xz-compressed; the ELF inside boots through PVH about 2x faster under TCG.
    python3 - "$B" <<'PY'
import glob, subprocess, sys
b = sys.argv[1]
d = open(glob.glob(b + "/kpkg/boot/vmlinuz-*")[0], "rb").read()
off = d.find(b"\xfd7zXZ\x00")
out = subprocess.run(["xz", "-dc", "--single-stream"], input=d[off:], capture_output=True).stdout
assert out[:4] == b"\x7fELF", "no ELF kernel inside the bzImage"
open(b + "/vmlinux", "wb").write(out)
PY
    echo "$KVER" >"$B/kver"
fi
tests/usb-bench/initramfs.sh "$B/kpkg" "$B/rawgadget/raw_gadget.ko" "$B/initrd.cpio.gz"
cargo build -q --release --bin dfuflash --example usb_gadget --example n6_layout
echo "bench ready in $B (kernel $KVER)"
