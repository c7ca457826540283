#!/usr/bin/env bash
# The Linux ARM stage: builds dfuflash for aarch64-unknown-linux-gnu and
# armv7-unknown-linux-gnueabihf (the library, the command, libusb compiled in by the cross gcc)
# with Debian's Rust and its own std for those targets, then under user-mode QEMU runs, for each:
# the portable Rust tests (ARM_TESTS below), the command flashing a simulated Rev V, the
# dfu-util drop-in on OpenMV IDE's line, the STM32_Programmer_CLI drop-in on STM32duino's and
# OpenMV IDE's lines, and the C example linked both ways; on aarch64 also the Python package
# loading the library under Debian's arm64 Python (scripts/arm-python.sh). Makes and checks the
# release archives. Ends with one line, "arm: N passed, M failed", and fails on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
exec </dev/null
./scripts/setup-arm.sh
# shellcheck source=scripts/arm-env.sh
source scripts/arm-env.sh
features=(--features vendored-libusb)
# The Rust tests under QEMU: the library's unit tests and integration tests that use the
# library alone. The others start the dfuflash program, which an emulated test cannot (no
# binfmt_misc); the steps below run the program themselves. A cross test build compiles every
# test binary at full optimisation, for each target: these fit the stage's budget.
# hostile_device and flash_layout check the numbers a device or a file gives before they become
# sizes and offsets, which matters most where usize is 32 bits (armv7). One test of models.rs
# starts the program too: skipped.
ARM_TESTS=(--lib --test flash --test flash_recovery --test flash_device_quirks --test flash_element_order
    --test models --test quirks --test records --test faults --test boot_last --test hostile_device
    --test flash_layout --test deadlines --test differential --test adversary_honest
    -- --skip every_model_flashes_with_dfuflash_flash)
work="$root/target/arm/work"
rm -rf "$work"
mkdir -p "$work"
stage=arm
# shellcheck source=scripts/stage-count.sh
source scripts/stage-count.sh
head -c 1800000 /dev/urandom >"$work/fw.bin"
head -c 200000 /dev/urandom >"$work/sketch.bin"
json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$1"; }

# readback MODEL STATE ADDRESS LENGTH: the simulated board's memory into back.bin.
readback() {
    rm -f back.bin
    "${qemu[@]}" ./dfuflash read --sim "$1" --sim-state "$2" --address "$3" --length "$4" back.bin \
        >/dev/null 2>&1 || true
}

# built TARGET FILE: FILE is built for TARGET's machine (every object of an archive).
built() {
    local f="$CARGO_TARGET_DIR/$1/release/$2" machines
    case $2 in
    *.a)
        machines=$("${ARM_GCC[$1]}-readelf" -h "$f" | awk -F: '/Machine:/ {gsub(/^ +/, "", $2); print $2}' | sort -u)
        [ "$machines" = "${ARM_MACHINE[$1]}" ]
        ;;
    *) file -L "$f" | grep -qF "${ARM_FILE[$1]}" ;;
    esac
}

# on_target TARGET: every step for one target, in target/arm/work/TARGET.
on_target() {
    local t=$1 gcc=${ARM_GCC[$1]} out="$CARGO_TARGET_DIR/$1/release" rc o log
    local qemu=("${ARM_QEMU[$1]}" -L "/usr/$gcc")
    mkdir -p "$work/$t"

    step "$t: build (release, Debian's std for the target, libusb by $gcc-gcc)"
    cargo build --locked --release --target "$t" "${features[@]}" --lib --bins
    for f in dfuflash libdfuflash.so libdfuflash.a; do
        check "$t: $f is built for ${ARM_MACHINE[$t]}" built "$t" "$f"
    done

    step "$t: Rust tests under QEMU (${ARM_TESTS[*]})"
    log="$work/$t/cargo-test.log"
    rc=0
    cargo test --locked --release --target "$t" "${features[@]}" --no-fail-fast "${ARM_TESTS[@]}" \
        >"$log" 2>&1 || rc=$?
    cargo_test_count "$log"
    if [ $rc -ne 0 ] && [ "$cargo_test_failed" -eq 0 ]; then
        tail -40 "$log"
        fail "$t: cargo test exited $rc"
    fi

    cd "$work/$t"
    cp "$out/dfuflash" .
    # As the IDEs bundle them: the drop-ins are the same program under another name.
    ln -sf dfuflash dfu-util
    ln -sf dfuflash STM32_Programmer_CLI
    step "$t: the command on a simulated Rev V"
    o=$("${qemu[@]}" ./dfuflash flash --sim stm32h743-revv --address 0x08040000 --json ../fw.bin 2>/dev/null) || true
    check "$t: flash Rev V --json: ok, every byte verified, the recovery on 8 sectors" \
        json "$o" "d['ok'] and d['bytes_verified'] == 1800000 and len(d['workaround_sectors']) == 8"

    step "$t: the dfu-util drop-in on OpenMV IDE's lines"
    o=$(DFUFLASH_SIM=stm32h743-revv "${qemu[@]}" ./dfu-util -l 2>&1) || true
    check "$t: dfu-util -l lists the board as dfu-util does" \
        grep -qF 'Found DFU: [0483:df11] ver=0200, devnum=' <<<"$o"
    "${qemu[@]}" ./dfuflash pack -o openmv.dfu 0x08040000:../fw.bin >/dev/null
    rc=0
    DFUFLASH_SIM=stm32h743-revv DFUFLASH_SIM_STATE=openmv.state \
        "${qemu[@]}" ./dfu-util -w -d ,0483:df11 -a 0 -s :leave -D openmv.dfu >openmv.out 2>&1 || rc=$?
    check "$t: dfu-util -w -d ,0483:df11 -a 0 -s :leave -D openmv.dfu on Rev V: exit 0" test $rc -eq 0
    readback stm32h743-revv openmv.state 0x08040000 1800000
    check "$t: ... and the board holds the file" cmp -s ../fw.bin back.bin

    step "$t: the STM32_Programmer_CLI drop-in on STM32duino's and OpenMV IDE's lines"
    rc=0
    DFUFLASH_SIM=stm32f405 DFUFLASH_SIM_STATE=duino.state "${qemu[@]}" ./STM32_Programmer_CLI \
        --connect port=usb1 VID=0x0483 PID=0xdf11 --quietMode --download ../sketch.bin 0x8000000 \
        --start 0x8000000 >duino.out 2>&1 || rc=$?
    check "$t: STM32duino's line: exit 0, 'File download complete'" \
        test $rc -eq 0 -a -n "$(grep -F 'File download complete' duino.out)"
    readback stm32f405 duino.state 0x08000000 200000
    check "$t: ... and the board holds the sketch" cmp -s ../sketch.bin back.bin
    rc=0
    DFUFLASH_SIM=stm32h743-revv DFUFLASH_SIM_STATE=omv.state "${qemu[@]}" ./dfuflash cubeprog \
        -c port=USB1 -d ../sketch.bin 0x08040000 >omv.out 2>&1 || rc=$?
    check "$t: dfuflash cubeprog -c port=USB1 -d FILE 0x08040000 on Rev V: exit 0" test $rc -eq 0
    readback stm32h743-revv omv.state 0x08040000 200000
    check "$t: ... and the board holds the file" cmp -s ../sketch.bin back.bin

    step "$t: examples/c by $gcc-gcc, against the shared and the static library"
    local cflags=(-std=c11 -O2 -Wall -Wextra -Werror -I"$root/include")
    "$gcc-gcc" "${cflags[@]}" -o example-shared "$root/examples/c/dfuflash-example.c" \
        -L"$out" -ldfuflash -Wl,-rpath,"$out"
    "$gcc-gcc" "${cflags[@]}" -o example-static "$root/examples/c/dfuflash-example.c" \
        "$out/libdfuflash.a" -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
    for kind in shared static; do
        o=$("${qemu[@]}" "./example-$kind" flash --sim stm32h743-revv --address 0x08040000 ../fw.bin 2>/dev/null) || true
        check "$t: examples/c linked to the $kind library flashes the simulated Rev V" \
            grep -qE '^flashed: .* 1800000 bytes verified' <<<"$o"
    done
    cd "$root"
}

# The targets named on the command line, or both.
targets=("$@")
[ $# -gt 0 ] || targets=("${ARM_TARGETS[@]}")
for t in "${targets[@]}"; do on_target "$t"; done

t=aarch64-unknown-linux-gnu
if [[ " ${targets[*]} " == *" $t "* ]]; then
    step "$t: the Python package (bindings/python) under Debian's arm64 Python"
    # The package from the source tree, loading the library named, as test.sh runs it on x86_64:
    # the example's record (the file's SHA-256, the CRC read back) and where ctypes loaded from.
    lib="$CARGO_TARGET_DIR/$t/release/libdfuflash.so"
    rc=0
    o=$(cd "$work" && DFUFLASH_LIBRARY="$lib" PYTHONPATH="$root/bindings/python" \
        "$root/scripts/arm-python.sh" "$root/examples/python/flash.py" --sim stm32h743-revv \
        --address 0x080c0000 sketch.bin 2>py.err) || rc=$?
    check "$t: examples/python/flash.py flashes the simulated Rev V: exit 0" test $rc -eq 0
    check "$t: ... with the file's SHA-256" grep -qx "alt 0 sha256 $(sha256sum "$work/sketch.bin" | cut -d' ' -f1)" <<<"$o"
    crc=$(python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$work/sketch.bin")
    check "$t: ... and its CRC-32 read back" grep -qx "segment 0x080c0000, 200000 bytes: crc32 $crc, read back $crc" <<<"$o"
    o=$(DFUFLASH_LIBRARY="$lib" PYTHONPATH="$root/bindings/python" "$root/scripts/arm-python.sh" -c '
import platform, dfuflash
print(platform.machine(), dfuflash._lib._name)' 2>&1) || true
    check "$t: an aarch64 Python loaded the aarch64 library" test "$o" = "aarch64 $lib"
fi

# from_archive TARGET ARCHIVE PACKAGE: the C example built by the cross gcc against the archive,
# unpacked elsewhere, through its pkg-config file PACKAGE, then run; prints what it printed.
from_archive() {
    local u="$work/unpacked-$1" flags
    mkdir -p "$u"
    tar -C "$u" -xzf "$2"
    read -ra flags <<<"$(PKG_CONFIG_LIBDIR="$u/$(basename "$2" .tar.gz)/lib/pkgconfig" pkg-config --cflags --libs "$3")"
    "${ARM_GCC[$1]}-gcc" -std=c11 -O2 -Wall -Werror -o "$u/example-$3" "$root/examples/c/dfuflash-example.c" "${flags[@]}"
    "${ARM_QEMU[$1]}" -L "/usr/${ARM_GCC[$1]}" "$u/example-$3" flash --sim stm32h743-revv --address 0x08040000 \
        "$work/fw.bin" 2>/dev/null
}

step "the release archives"
for t in "${targets[@]}"; do
    a=$(./scripts/package.sh arm "$t")
    check "$(basename "$a") holds what it must, built for ${ARM_MACHINE[$t]}" ./scripts/package.sh check "$a"
    echo "arm: $(basename "$a"): $(stat -c %s "$a") bytes"
    for pkg in dfuflash dfuflash-static; do
        o=$(from_archive "$t" "$a" "$pkg") || true
        check "$t: examples/c built from the unpacked archive with pkg-config $pkg flashes Rev V" \
            grep -qE '^flashed: .* 1800000 bytes verified' <<<"$o"
    done
done

echo "arm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
