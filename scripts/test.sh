#!/usr/bin/env bash
# Runs every test of the project. Installs nothing by hand: what a test needs is set up here.
# Each section prints its start time; a failure ends the run with one line naming the section,
# the exit code and the time, so the cause is the last thing in the log.
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing here reads input; CI runs with standard input closed, which some tools refuse.
exec </dev/null

current="start"
started=0
# Each section's start, and how long the one before it took.
section() {
    [ "$current" = start ] || echo "== $current: took $((SECONDS - started)) s"
    current=$1
    started=$SECONDS
    echo "== $1 (at ${SECONDS} s)"
}
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "test.sh: FAILED in \"$current\": exit code $rc at ${SECONDS} s"; else echo "== $current: took $((SECONDS - started)) s"; echo "test.sh: every section passed in ${SECONDS} s"; fi' EXIT

section "test dependencies"
./scripts/setup-test-deps.sh

section "format"
cargo fmt --all -- --check

section "clippy (every target, warnings are errors)"
cargo clippy --locked --all-targets -- -D warnings

section "the library as integrators link it (USB, no command-line crates)"
cargo build --locked --lib --no-default-features --features usb

section "fuzz smoke run (${FUZZ_SECONDS:-20} s per target)"
./scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

section "Rust unit, integration, command, C API and doc tests"
cargo test --locked

section "Python bindings (unittest)"
# The library this run just built, named explicitly: never a stale build lying in target/.
cargo build -q --locked --lib
export DFUFLASH_LIBRARY="$PWD/target/debug/libdfuflash.so"
# One test injects a simulator panic on purpose; its backtrace would only bury real failures.
RUST_BACKTRACE=0 python3 -m unittest discover -s bindings/python/tests

section "Python example script"
fw=$(mktemp)
head -c 300000 /dev/urandom >"$fw"
# Its progress bar goes to stderr: shown only when the script fails.
out=$(python3 examples/python/flash.py --sim stm32h743-revv --address 0x080c0000 "$fw" 2>"$fw.err") || {
    tail -c 2000 "$fw.err"
    exit 1
}
# Its record: the SHA-256 and CRC-32 of the file, the CRC read back equal.
grep -qx "alt 0 sha256 $(sha256sum "$fw" | cut -d' ' -f1)" <<<"$out"
crc=$(python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$fw")
grep -qx "segment 0x080c0000, 300000 bytes: crc32 $crc, read back $crc" <<<"$out"
# Every attached board at once, one thread each: four simulated H7 Rev V boards, each verified.
out=$(DFUFLASH_SIM=stm32h743-revv,stm32h743-revv,stm32h743-revv,stm32h743-revv \
    python3 examples/python/flash_all.py --address 0x08040000 "$fw")
echo "$out"
[ "$(wc -l <<<"$out")" -eq 4 ]
for path in 'sim:stm32h743-revv' 'sim:stm32h743-revv#2' 'sim:stm32h743-revv#3' 'sim:stm32h743-revv#4'; do
    grep -q "^$path  *200364500000  verified 300000 bytes, " <<<"$out"
done
rm -f "$fw" "$fw.err"

section "pip install of the bindings into a venv (offline: build requirements fetched by setup-test-deps.sh)"
venv=$(mktemp -d)
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check --no-index --find-links target/pip-wheels ./bindings/python
# The installed package must load its own copy of the library.
(cd / && env -u DFUFLASH_LIBRARY "$venv/bin/python" -c "
import dfuflash, sys
assert dfuflash._lib._name.startswith(sys.prefix), dfuflash._lib._name
d = dfuflash.open_simulated('stm32l4')
print('pip-installed dfuflash', dfuflash.__version__, 'erased', d.erase(0x08000000, 2048).sectors_erased)")
rm -rf "$venv"

section "Qt example: build, headless flash of the simulated Rev V"
./scripts/test-qt.sh

section "packaging: install, then build the C example with pkg-config and CMake"
./scripts/test-packaging.sh

section "Windows: cross build, then the tests, the command, the drop-in, Ctrl-C and the C example under Wine"
./scripts/test-windows.sh

section "Linux ARM (aarch64, armv7): cross build, then tests, the command, the drop-in, the C example and Python under QEMU"
./scripts/test-arm.sh

section "macOS: the library and the command compile for aarch64-apple-darwin (check only)"
./scripts/check-macos.sh

# After the Windows stage: the win_amd64 wheel carries the DLL that stage built and tested.
section "wheels: manylinux_2_17 x86_64 and aarch64 (auditwheel; a clean venv each, aarch64 under qemu), win_amd64"
./scripts/test-wheels.sh

section "Simulator benchmark: every model, then the differential flash against the full one"
cargo run -q --locked --release --example bench

section "USB bench: the simulated devices through a real kernel USB stack (QEMU), dfuflash and dfu-util"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    tests/usb-bench/setup.sh
    tests/usb-bench/run.sh
else
    echo "usb bench: SKIPPED: it installs qemu and Debian's kernel packages, which needs root and apt-get"
fi
