#!/usr/bin/env bash
# Builds the Qt example (Debian's qt6-base-dev) and drives it headless (QT_QPA_PLATFORM=offscreen):
# it must flash the simulated STM32H7 Rev V with a DfuSe file and exit 0 only when the flash
# verified; without the library it must say so and exit 2.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A build step that fails prints its own output and ends the run.
step() { # NAME COMMAND...
    local name=$1
    shift
    local rc=0
    "$@" >"$tmp/step.log" 2>&1 || rc=$?
    if [ $rc -ne 0 ]; then
        echo "qt: $name FAILED (exit code $rc):"
        tail -40 "$tmp/step.log"
        echo "qt: 0 passed, 1 failed"
        exit 1
    fi
}
step "cmake configure" cmake -S examples/qt -B "$tmp/build"
step "cmake build" cmake --build "$tmp/build" -j2
step "cargo build of the library" cargo build -q --release --lib
step "sample image" cargo run -q --release --example sample_image -- "$tmp/fw.bin"
step "pack" cargo run -q --release -- pack -o "$tmp/fw.dfu" "0x08040000:$tmp/fw.bin"
export QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR="$tmp"
passed=0; failed=0
if out=$(timeout 120 "$tmp/build/dfuflash-qt" --library "$PWD/target/release/libdfuflash.so" --sim stm32h743-revv \
    --file "$tmp/fw.dfu" --smoke-test --screenshot "$tmp/shot.png" 2>"$tmp/qt.err") &&
    grep -q "^ok: verified 1830912 bytes, 14 sectors erased, 0 unchanged sector(s) skipped, Rev V recovery on 8 sector(s)" <<<"$out" && [ -s "$tmp/shot.png" ]; then
    echo "qt smoke flash: ok ($out)"; passed=$((passed + 1))
else
    echo "qt smoke flash: FAILED: $out"; tail -20 "$tmp/qt.err"; failed=$((failed + 1))
fi
set +e
out=$(timeout 30 "$tmp/build/dfuflash-qt" --library /nonexistent/libdfuflash.so --smoke-test 2>&1); rc=$?
set -e
if [ $rc -eq 2 ] && grep -q "dfuflash library not found" <<<"$out"; then
    echo "qt missing library: ok"; passed=$((passed + 1))
else
    echo "qt missing library: FAILED (rc $rc): $out"; failed=$((failed + 1))
fi
echo "qt: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
