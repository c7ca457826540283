#!/usr/bin/env bash
# Checks that the library and the command compile for aarch64-apple-darwin: `cargo check` with
# std built from source by Debian's Rust (scripts/setup-windows.sh unpacks it). Linking needs
# the macOS SDK, which is not available here; so does libusb, so the usb feature is off.
set -euo pipefail
cd "$(dirname "$0")/.."
exec </dev/null
./scripts/setup-windows.sh >/dev/null
# shellcheck source=scripts/cross-env.sh
source scripts/cross-env.sh
cargo check --locked -Zbuild-std --target aarch64-apple-darwin --no-default-features \
    --features cli --lib --bins
echo "macos: the library and the command compile for aarch64-apple-darwin (check only)"
