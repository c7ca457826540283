#!/usr/bin/env bash
# Installs dfuflash under the name dfu-util, for an IDE or a script that runs dfu-util: it takes
# dfu-util 0.11's command line and prints what dfu-util prints (see "For IDE maintainers" in the
# README). Replace the bundled dfu-util binary with this file.
# Usage: scripts/install-dfu-util.sh DIR   (writes DIR/dfu-util)
set -euo pipefail
dir=${1:?usage: scripts/install-dfu-util.sh DIR}
# A relative DIR is the caller's, not the repository's.
case $dir in /*) ;; *) dir="$PWD/$dir" ;; esac
cd "$(dirname "$0")/.."
cargo build --release --locked --bin dfuflash
# Where cargo put it (CARGO_TARGET_DIR is honoured).
out=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
install -d "$dir"
install -m 0755 "$out/dfuflash" "$dir/dfu-util"
echo "installed $dir/dfu-util ($("$dir/dfu-util" -V | head -1), dfuflash $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1))"
