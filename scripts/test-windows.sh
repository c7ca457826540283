#!/usr/bin/env bash
# The Windows stage: builds dfuflash for x86_64-pc-windows-gnu (dfuflash.exe, dfuflash.dll, its
# import library and libdfuflash.a, libusb compiled in) with Debian's Rust and mingw-w64, then
# under Wine runs the portable Rust tests and doc tests, the command on simulated boards, the
# dfu-util drop-in on the IDEs' command lines, Ctrl-C, the C example linked both ways, and a
# program that only uses LoadLibrary and dfuflash_get_api. Ends with one line,
# "windows: N passed, M failed", and fails on any failure. See WINDOWS.md for the facts.
set -euo pipefail
cd "$(dirname "$0")/.."
exec </dev/null
./scripts/setup-windows.sh
# shellcheck source=scripts/cross-env.sh
source scripts/cross-env.sh
t=$WINDOWS_TARGET
features=(--features vendored-libusb)
out="$CARGO_TARGET_DIR/$t/release"
work="$root/target/cross/work"
rm -rf "$work"
mkdir -p "$work"
stage=windows
# shellcheck source=scripts/stage-count.sh
source scripts/stage-count.sh

step "build (release, std built from source)"
cargo build --locked --release -Zbuild-std --target "$t" "${features[@]}" --lib --bins
for f in dfuflash.exe dfuflash.dll libdfuflash.dll.a libdfuflash.a; do
    check "built $f" test -s "$out/$f"
done

step "Rust tests and doc tests under Wine"
# Release: the build above already made std and every dependency for it.
log="$work/cargo-test.log"
# Cargo before 1.89 (Debian's 1.85) runs no doc tests for another target unless asked; later
# ones always do, and no longer list the flag.
xdoc=()
cargo -Zhelp 2>/dev/null | grep -q doctest-xcompile && xdoc=(-Zdoctest-xcompile)
rc=0
cargo test --locked --release -Zbuild-std "${xdoc[@]}" --target "$t" "${features[@]}" --no-fail-fast >"$log" 2>&1 || rc=$?
# The failures and ignored tests need Linux programs; the tests say why.
cargo_test_count "$log"
if [ $rc -ne 0 ] && [ "$cargo_test_failed" -eq 0 ]; then
    tail -40 "$log"
    fail "cargo test exited $rc"
fi

cd "$work"
cp "$out/dfuflash.exe" "$out/dfuflash.dll" .
cp dfuflash.exe dfu-util.exe
head -c 1800000 /dev/urandom >fw.bin
head -c 200000 /dev/urandom >sketch.bin
json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$1"; }

step "the command on simulated boards"
o=$(wine dfuflash.exe flash --sim stm32h743-revv --address 0x08040000 --json fw.bin 2>/dev/null) || true
check "flash Rev V --json: ok, every byte verified, the recovery on 8 sectors" \
    json "$o" "d['ok'] and d['bytes_verified'] == 1800000 and len(d['workaround_sectors']) == 8"
o=$(wine dfuflash.exe flash --all --sim stm32h743-revv --sim stm32h743-revv --sim stm32h743-revv \
    --sim stm32h743-revv --address 0x08040000 --json sketch.bin 2>/dev/null) || true
check "flash --all over four --sim boards: four results, each verified" python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
assert len(rows) == 4 and all(r['ok'] and r['bytes_verified'] == 200000 for r in rows), rows
assert len({r['path'] for r in rows}) == 4" "$o"
rc=0
wine dfuflash.exe flash --sim stm32h743-revv --address 0x08200000 sketch.bin >refused.out 2>refused.err || rc=$?
check "a refused image: exit 1 and the reason" \
    test $rc -eq 1 -a -n "$(grep -F 'image touches 0x08200000, outside the memory of alt setting 0' refused.err)"

step "the dfu-util drop-in (dfu-util.exe, a copy of dfuflash.exe)"
o=$(DFUFLASH_SIM=stm32h743-revv wine dfu-util.exe -l 2>&1) || true
check "dfu-util -l lists the board as dfu-util does" \
    grep -qF 'Found DFU: [0483:df11] ver=0200, devnum=' <<<"$o"
wine dfuflash.exe pack -o openmv.dfu 0x08040000:fw.bin >/dev/null
rc=0
DFUFLASH_SIM=stm32h743-revv DFUFLASH_SIM_STATE=openmv.state \
    wine dfu-util.exe -w -d ,0483:df11 -a 0 -s :leave -D openmv.dfu >openmv.out 2>&1 || rc=$?
check "OpenMV IDE's command line on Rev V with :leave: exit 0" test $rc -eq 0
wine dfuflash.exe read --sim stm32h743-revv --sim-state openmv.state --address 0x08040000 \
    --length 1800000 back.bin 2>/dev/null || true
check "the board holds the file OpenMV IDE flashed" cmp -s fw.bin back.bin
rc=0
DFUFLASH_SIM=portenta-h7 wine dfu-util.exe --device 0x2341:0x035b -D sketch.bin -a0 \
    --dfuse-address=0x08040000:leave >portenta.out 2>&1 || rc=$?
check "Arduino's Portenta command line: exit 0" test $rc -eq 0
rc64=0
wine dfu-util.exe --no-such-option >/dev/null 2>&1 || rc64=$?
rc74=0
env -u DFUFLASH_SIM wine dfu-util.exe -d 1234:5678 -D sketch.bin >/dev/null 2>&1 || rc74=$?
check "exit 64 for a bad command line" test $rc64 -eq 64
check "exit 74 when no device matches" test $rc74 -eq 74

step "Ctrl-C (Wine delivers console events to a terminal: script gives it one)"
x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -o ctrl_c.exe "$root/tests/windows/ctrl_c.c"
ctrl_c() { # NAME DELAYS COMMAND...: NAME.result, NAME.out and NAME.err say how it went
    script -qec "wine ctrl_c.exe $*" /dev/null </dev/null >/dev/null 2>&1 || true
    echo "$1: $(cat "$1.result" 2>/dev/null)"
}
ctrl_c one 2500 dfuflash.exe flash --sim-realtime --sim stm32f405 --address 0x08040000 sketch.bin
check "Ctrl-C cancels a one-board flash: exit 1" grep -q '^exit 1 after' one.result
check "... and says where the board was left (dfuIDLE, or busy with a cut erase)" \
    grep -qE 'cancelled during [a-z]+(; the device was left in dfuIDLE| while the device was busy)' one.err
# Request 5 (the mass erase's first poll) is held for the USB timeout: the first Ctrl-C cannot
# end the command, the second exits at once.
ctrl_c twice 2000,1000 dfuflash.exe flash --all --sim-realtime --mass-erase \
    --sim stm32f405:timeout@5 --sim stm32f405:timeout@5 --address 0x08000000 sketch.bin
check "a second Ctrl-C exits at once with 130" grep -qE '^exit 130 after [0-9.]+ s, 2 sent' twice.result
check "... after the first said it was cancelling" grep -q 'cancelling' twice.err
echo stm32h743-revv >plugged
DFUFLASH_SIM_PLUG=plugged ctrl_c watch 4000 dfuflash.exe flash --watch --json --address 0x08040000 sketch.bin
check "Ctrl-C ends --watch after its board verified: exit 0" grep -q '^exit 0 after' watch.result
check "... the board was flashed once" test "$(grep -c '"bytes_verified":200000' watch.out)" -eq 1

step "examples/c with mingw-w64, against the DLL and against the static library"
cflags=(-std=c11 -O2 -Wall -Wextra -Werror -I"$root/include")
x86_64-w64-mingw32-gcc "${cflags[@]}" -o example-dll.exe "$root/examples/c/dfuflash-example.c" \
    -L"$out" -ldfuflash
x86_64-w64-mingw32-gcc "${cflags[@]}" -o example-static.exe "$root/examples/c/dfuflash-example.c" \
    "$out/libdfuflash.a" -luser32 -lkernel32 -lntdll -luserenv -lws2_32 -ldbghelp -lsetupapi -lbcrypt
for kind in dll static; do
    o=$(wine example-$kind.exe flash --sim stm32h743-revv --address 0x08040000 fw.bin 2>/dev/null) || true
    check "examples/c linked to the $kind flashes the simulated Rev V" \
        grep -qE '^flashed: .* 1800000 bytes verified' <<<"$o"
done

step "LoadLibrary and dfuflash_get_api only (how an MSVC-built IDE loads the mingw DLL)"
x86_64-w64-mingw32-gcc "${cflags[@]}" -o load_library.exe "$root/tests/windows/load_library.c"
o=$(wine load_library.exe 'dfuflash.dll' 2>&1) || true
echo "$o"
check "LoadLibrary path flashes through the API table" grep -q '^load_library: ok' <<<"$o"

step "the Windows zip and the win_amd64 wheel"
cd "$root"
./scripts/fetch-pip-wheels.sh
mapfile -t made < <(./scripts/package.sh windows)
check "the zip and the wheel were made" test ${#made[@]} -eq 2
for f in "${made[@]}"; do
    check "$(basename "$f") holds what it must" ./scripts/package.sh check "$f"
done

echo "windows: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
