#!/usr/bin/env bash
# Boots Debian's kernel in QEMU (TCG) and runs the bench inside it: the simulator models served
# as real USB devices by raw_gadget on dummy_hcd, driven by dfuflash (rusb/libusb) and by
# Debian's dfu-util 0.11. Prints a table and "bench: N passed, M failed".
# Usage: tests/usb-bench/run.sh   (after tests/usb-bench/setup.sh; SCALE=N speeds up the models)
set -euo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
B=${BENCH_DIR:-$TOP/target/usb-bench}
SCALE=${SCALE:-10}
[ -f "$B/vmlinux" ] || { echo "bench: not set up; run tests/usb-bench/setup.sh"; exit 1; }
rm -f "$B/results.txt" "$B/console.log"
# The guest console goes to a file, not to stdio: CI runs with no standard input at all, and
# QEMU's stdio backend refuses a closed stdin.
timeout 1500 qemu-system-x86_64 -accel tcg -m 1536 -smp 2 -nodefaults -no-user-config -display none \
    -serial "file:$B/console.log" -no-reboot -kernel "$B/vmlinux" -initrd "$B/initrd.cpio.gz" \
    -append "console=ttyS0 quiet panic=-1 BENCH_DIR=$B TOP=$TOP SCALE=$SCALE BENCH=$TOP/tests/usb-bench/guest.sh" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs local,path="$B",mount_tag=bench,security_model=none,multidevs=remap </dev/null >"$B/qemu.log" 2>&1 || true
if [ ! -f "$B/results.txt" ]; then
    echo "bench: the guest wrote no results"; tail -5 "$B/qemu.log"; tail -30 "$B/console.log" 2>/dev/null
    echo "bench: 0 passed, 1 failed"; exit 1
fi
cat "$B/results.txt"
passed=$(grep -c '^PASS' "$B/results.txt" || true)
failed=$(grep -c '^FAIL' "$B/results.txt" || true)
echo "bench: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
