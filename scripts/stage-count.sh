# Sourced by the cross stages (scripts/test-windows.sh, scripts/test-arm.sh) after they set
# `stage` (their name): the count of checks passed and failed, and the summary line
# "STAGE: N passed, M failed" that ends the stage's log, also when a step that cannot go on
# (a build that fails) ends it early.
# shellcheck shell=bash
# shellcheck disable=SC2034 # cargo_test_failed is for the stage that sources this one
stage=${stage:?set stage before sourcing stage-count.sh}
passed=0
failed=0
current=setup
trap 'echo "$stage: FAILED in \"$current\""; echo "$stage: $passed passed, $((failed + 1)) failed"' ERR
step() { current=$1; echo "== $stage: $1 (at ${SECONDS} s)"; }
pass() { passed=$((passed + 1)); echo "$stage: ok: $1"; }
fail() { failed=$((failed + 1)); echo "$stage: FAILED: $1"; }
# check NAME COMMAND...: passes when the command succeeds.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
# cargo_test_count LOG: adds the passed and failed tests of a cargo test log to the counts.
cargo_test_count() {
    local tp tf ti
    grep -E '^(test result|     Running|   Doc-tests)' "$1" || true
    read -r tp tf ti < <(awk '/^test result:/ {p += $4; f += $6; i += $8} END {print p + 0, f + 0, i + 0}' "$1")
    passed=$((passed + tp))
    failed=$((failed + tf))
    echo "$stage: cargo test: $tp passed, $tf failed, $ti ignored"
    cargo_test_failed=$tf
}
