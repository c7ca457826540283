#!/usr/bin/env bash
# Runs every test of the project. Installs nothing by hand: what a test needs is set up here.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== test dependencies"
./scripts/setup-test-deps.sh

echo "== format"
cargo fmt --all -- --check

echo "== the library alone (the dependency tree integrators link: no CLI crates)"
cargo build --locked --lib --no-default-features

echo "== fuzz smoke run (${FUZZ_SECONDS:-20} s per target)"
./scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

echo "== Rust unit, integration, command, C API and doc tests"
cargo test --locked

echo "== packaging: install, then build the C example with pkg-config and CMake"
./scripts/test-packaging.sh

echo "== USB bench: the simulated devices through a real kernel USB stack (QEMU), dfuflash and dfu-util"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    tests/usb-bench/setup.sh
    tests/usb-bench/run.sh
else
    echo "usb bench: SKIPPED: it installs qemu and Debian's kernel packages, which needs root and apt-get"
fi
