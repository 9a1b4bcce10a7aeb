#!/usr/bin/env bash
# fuzz/run.sh - build the libFuzzer targets (clang, -fsanitize=fuzzer,address,
# undefined) into build-fuzz/ and run each one for a fixed time.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     default 30 s, all of packet sql admin
#
# Each target starts from a copy of its seed corpus (fuzz/corpus/<target>/,
# read only) in build-fuzz/work/<target>/ and prints its executions. Exits
# non-zero when a target crashes, leaks or times out (the reproducer is left
# in build-fuzz/work/crash-*), 77 when clang or its fuzzer runtime is missing.
# Environment: MVP_FUZZ_BUILD (build dir), MVP_JOBS (build parallelism).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECS="${1:-30}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(packet sql admin)
BUILD="${MVP_FUZZ_BUILD:-$ROOT/build-fuzz}"

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: SKIPPED: clang not installed (apt-get install clang libclang-rt-14-dev)"; exit 77
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' |
        clang -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then
    echo "fuzz: SKIPPED: clang has no libFuzzer runtime (apt-get install libclang-rt-14-dev)"; exit 77
fi
mkdir -p "$BUILD"
CC=clang cmake -S "$ROOT" -B "$BUILD" -DMVP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >"$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log" >&2; exit 1; }
cmake --build "$BUILD" -j"${MVP_JOBS:-2}" >"$BUILD/build.log" 2>&1 ||
    { tail -50 "$BUILD/build.log" >&2; echo "fuzz: build failed" >&2; exit 1; }

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
rc=0
for t in "${TARGETS[@]}"; do
    work="$BUILD/work/$t"
    rm -rf "$work" && mkdir -p "$work/corpus"
    cp "$ROOT/fuzz/corpus/$t/"* "$work/corpus/" 2>/dev/null || true
    # max_len: deep-nesting SQL needs room; packets stay small
    case "$t" in packet) max=4096 ;; *) max=65536 ;; esac
    log="$work/fuzz.log"
    set +e
    (cd "$work" && "$BUILD/fuzz_$t" -max_total_time="$SECS" -max_len="$max" -timeout=25 \
        -rss_limit_mb=2048 -print_final_stats=1 corpus) >"$log" 2>&1
    trc=$?
    set -e
    execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)
    if [ "$trc" = 0 ]; then
        echo "fuzz_$t: ok, ${execs:-?} executions in ${SECS}s, corpus $(ls "$work/corpus" | wc -l) files"
    else
        echo "fuzz_$t: FAILED (exit $trc) after ${execs:-?} executions; log $log"
        grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written' "$log" | head -10
        rc=1
    fi
done
exit "$rc"
