#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 20: the CI smoke run), two at a time: the
# file readers, content detection, and what a device sends (layouts, descriptors, and the
# engine against a device whose every answer is the fuzzer's).
# Needs cargo-fuzz; installs it from crates.io when missing. Fuzzing uses the nightly-only
# sanitizer flags, which the stable toolchain accepts with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-20}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version "^0.13"
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
targets=(dfuse ihex srec elf suffix detect layout descriptor device)
status=0
run() {
    local t=$1
    mkdir -p "corpus/$t"
    if cargo fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -max_len=65536 -malloc_limit_mb=64 -rss_limit_mb=1024 \
        -timeout=5 -print_final_stats=1 >"corpus/$t.log" 2>&1; then
        echo "fuzz $t: ok ($(grep -a -m1 -o 'stat::number_of_executed_units: *[0-9]*' "corpus/$t.log" | grep -o '[0-9]*$') runs in ${seconds}s)"
    else
        echo "fuzz $t: FAILED"; tail -40 "corpus/$t.log"; return 1
    fi
}
for ((i = 0; i < ${#targets[@]}; i += 2)); do
    run "${targets[i]}" & a=$!
    if ((i + 1 < ${#targets[@]})); then
        run "${targets[i+1]}" & b=$!
        wait $b || status=1
    fi
    wait $a || status=1
done
exit $status
