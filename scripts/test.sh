#!/usr/bin/env bash
# Runs every test of the project. Installs nothing by hand: what a test needs is set up here.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== test dependencies"
./scripts/setup-test-deps.sh

echo "== format"
cargo fmt --all -- --check

echo "== the library as integrators link it (USB, no command-line crates)"
cargo build --locked --lib --no-default-features --features usb

echo "== fuzz smoke run (${FUZZ_SECONDS:-20} s per target)"
./scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

echo "== Rust unit, integration, command, C API and doc tests"
cargo test --locked

echo "== Python bindings (unittest), the example script, and pip install into a venv"
python3 -m unittest discover -s bindings/python/tests
fw=$(mktemp)
head -c 300000 /dev/urandom >"$fw"
python3 examples/python/flash.py --sim stm32h743-revv --address 0x080c0000 "$fw" 2>/dev/null
rm -f "$fw"
venv=$(mktemp -d)
python3 -m venv "$venv"
"$venv/bin/pip" install -q ./bindings/python
(cd / && "$venv/bin/python" -c "import dfuflash; d = dfuflash.open_simulated('stm32l4'); print('pip-installed dfuflash', dfuflash.__version__, 'erased', d.erase(0x08000000, 2048).sectors_erased)")
rm -rf "$venv"

echo "== Qt example: build, headless flash of the simulated Rev V"
./scripts/test-qt.sh

echo "== packaging: install, then build the C example with pkg-config and CMake"
./scripts/test-packaging.sh

echo "== USB bench: the simulated devices through a real kernel USB stack (QEMU), dfuflash and dfu-util"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    tests/usb-bench/setup.sh
    tests/usb-bench/run.sh
else
    echo "usb bench: SKIPPED: it installs qemu and Debian's kernel packages, which needs root and apt-get"
fi
