#!/usr/bin/env bash
# Fuzzes every parser of evidra for SECONDS each (default 60), one target after the
# other, and prints each target's executions at the end.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 300 sarif bundle
#
# The targets live in fuzz/ (their own cargo workspace; `cargo fuzz list` names them).
# cargo-fuzz needs nightly flags; on stable Rust they are allowed with RUSTC_BOOTSTRAP=1.
# Built optimised with debug assertions and overflow checks, without a sanitizer (the
# code is safe Rust; libFuzzer's RSS limit and timeout catch blow-ups and hangs).
# Seeds come from the repo's fixtures (fuzz/make_seeds.py, into fuzz/corpus/, which
# git ignores); crashes land in fuzz/artifacts/<target>/.
#
# One target at a time, built with CARGO_BUILD_JOBS (default 1): the machine is shared.
# Each target's libFuzzer output goes to $FUZZ_LOGS/<target>.log (default: a new temp dir).
set -euo pipefail

cd "$(dirname "$0")/../fuzz"
. ../scripts/null_device.sh
seconds="${1:-60}"
shift || true

export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
build_flags=(-O --debug-assertions --sanitizer none)

if ! command -v cargo-fuzz >/dev/null; then
    echo "fuzz.sh: cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 1
fi

python3 make_seeds.py corpus >/dev/null
empty_null_device
cargo fuzz build "${build_flags[@]}"

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    empty_null_device
    mapfile -t targets < <(cargo fuzz list)
fi

logs="${FUZZ_LOGS:-$(mktemp -d)}"
mkdir -p "$logs"
echo "logs: $logs" >&2
failed=()
for target in "${targets[@]}"; do
    echo "== $target: ${seconds}s" >&2
    # -max_len: the seeds' cut-down copies are under 16 KiB and the real fixtures under
    # 128 KiB. -rss_limit_mb: a blow-up past 2 GiB is a bug. -timeout: one input taking
    # 10 s is a hang.
    empty_null_device
    if ! cargo fuzz run "${build_flags[@]}" "$target" -- \
        -max_total_time="$seconds" -max_len=131072 -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 >"$logs/$target.log" 2>&1; then
        failed+=("$target")
        tail -n 30 "$logs/$target.log" >&2
    fi
done

printf '%-24s %14s %8s  %s\n' target executions seconds result
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    took="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)"
    result=ok
    if [[ " ${failed[*]-} " == *" $target "* ]]; then
        result="FAILED (see fuzz/artifacts/$target/, log $log)"
    fi
    printf '%-24s %14s %8s  %s\n' "$target" "${execs:-?}" "${took:-?}" "$result"
done
[ "${#failed[@]}" -eq 0 ]
