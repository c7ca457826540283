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
