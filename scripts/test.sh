#!/usr/bin/env bash
# scripts/test.sh - THE test command (README, .ci/run). On a fresh Debian
# bookworm machine, as root:
#
#   1. installs the Debian packages (scripts/deps.sh, and the client programs
#      of the real-client matrix: scripts/deps-clients.sh; idempotent),
#   2. configures and builds (build/, or build-asan/ with --asan),
#   3. starts a private MariaDB in .run/test-mariadb (a fresh data directory
#      each run; stopped on exit, failure or Ctrl-C - never the system one),
#   4. runs every ctest (unit + integration) with the MVP_* environment the
#      integration tests read,
#   5. runs the unit tests again under valgrind (not with --quick/--asan),
#   5b. runs each fuzz target for a short fixed time (fuzz/run.sh; with no
#      -R, or -R matching "fuzz"),
#   6. prints "N passed, N failed" over everything and exits non-zero on any
#      failure.
#
#   scripts/test.sh [--asan] [--quick] [-R REGEX]
#     --asan     AddressSanitizer + UBSan build in build-asan/ (valgrind is
#                skipped: the two do not mix)
#     --quick    skip the valgrind pass
#     -R REGEX   only the ctests whose name matches (passed to ctest -R; the
#                valgrind pass then runs only unit tests matching it too)
#
# Environment: MVP_SHARED_DIR (default ../shared next to the repository:
# SPEC.md, conformance corpus), MVP_JOBS (build parallelism, default 2),
# MVP_TEST_TIMEOUT (seconds per ctest, default 900), MVP_TEST_BUILD and
# MVP_TEST_RUN_DIR (build and MariaDB directories, for running two at once).
# MVP_FUZZ_SECONDS (fuzz step, per target, default 20), MVP_FUZZ_BUILD.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ASAN=0
QUICK=0
FILTER=""
while [ $# -gt 0 ]; do
    case "$1" in
        --asan) ASAN=1; shift ;;
        --quick) QUICK=1; shift ;;
        -R) FILTER="$2"; shift 2 ;;
        -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
        *) echo "test.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

JOBS="${MVP_JOBS:-2}"
BUILD="${MVP_TEST_BUILD:-build}"
CMAKE_ARGS=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "$ASAN" = 1 ]; then
    BUILD="${MVP_TEST_BUILD:-build-asan}"
    CMAKE_ARGS+=(-DMVP_ASAN=ON)
    # Leaks and undefined behaviour fail the test that caused them.
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fi
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
T0=$(date +%s)
step() { printf '\n=== %s (%ds)\n' "$*" $(( $(date +%s) - T0 )); }

step "dependencies"
bash scripts/deps.sh
# The real-client matrix's clients (tests/integration/t_clients.sh).
bash scripts/deps-clients.sh

step "configure + build ($BUILD, -j$JOBS)"
mkdir -p "$BUILD"
cmake -S . -B "$BUILD" "${CMAKE_ARGS[@]}" >"$BUILD/configure.log" 2>&1 || {
    cat "$BUILD/configure.log" >&2
    echo "test.sh: cmake configure failed" >&2; echo "0 passed, 1 failed"; exit 1; }
if ! cmake --build "$BUILD" -j"$JOBS"; then
    echo "test.sh: build failed" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

RUN_DIR="${MVP_TEST_RUN_DIR:-$ROOT/.run/test-mariadb}"
step "private MariaDB ($RUN_DIR)"
export MVP_RUN_DIR="$RUN_DIR"
CT_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -n "$CT_PID" ] && kill "$CT_PID" 2>/dev/null
    MVP_RUN_DIR="$RUN_DIR" bash "$ROOT/scripts/mariadb.sh" stop >/dev/null 2>&1 || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A left-over instance (a run killed with -9) is stopped; every run starts
# from an empty data directory and binary log, so no test sees another
# run's tables or changes.
bash scripts/mariadb.sh stop >/dev/null 2>&1 || true
rm -rf "$MVP_RUN_DIR/data" "$MVP_RUN_DIR"/binlog.*
# A free port every time (an MVP_DB_PORT left in the environment would pin it).
env -u MVP_DB_PORT bash scripts/mariadb.sh start
set -a
# shellcheck disable=SC1091
. "$MVP_RUN_DIR/env"
set +a
export MVP_PROXY_BIN="$BUILD/mvproxy"
export MVP_BUILD_DIR="$BUILD"
export MVP_SHARED_DIR="${MVP_SHARED_DIR:-$ROOT/../shared}"
[ -d "$MVP_SHARED_DIR" ] && MVP_SHARED_DIR="$(cd "$MVP_SHARED_DIR" && pwd)"
export MVP_SOURCE_DIR="$ROOT"

PASSED=0
FAILED=0
FAILED_NAMES=()

step "ctest: unit + integration"
CT_ARGS=(--output-on-failure --timeout "${MVP_TEST_TIMEOUT:-900}" -j"$JOBS")
[ -n "$FILTER" ] && CT_ARGS+=(-R "$FILTER")
CT_LOG="$BUILD/ctest-summary.log"
# ctest writes to the log and `tail` shows it live: a pipe into tee would hang
# for as long as any process a test left behind keeps the pipe open.
: >"$CT_LOG"   # exists before `tail` opens it (the subshell below may start later)
(cd "$BUILD" && exec ctest "${CT_ARGS[@]}") </dev/null >"$CT_LOG" 2>&1 &
CT_PID=$!
tail -n +1 -f --pid="$CT_PID" "$CT_LOG"
wait "$CT_PID" || true
CT_PID=""
# "93% tests passed, 1 tests failed out of 14"  /  "No tests were found!!!"
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$CT_LOG" | tail -1 || true)
if [ -n "$summary" ]; then
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
    nfail=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$summary")
    PASSED=$(( PASSED + total - nfail ))
    FAILED=$(( FAILED + nfail ))
    while read -r name; do FAILED_NAMES+=("$name"); done < <(
        sed -n '/The following tests FAILED:/,$p' "$CT_LOG" | sed -nE 's/^[[:space:]]*[0-9]+ - ([^ ]+) .*/\1/p')
elif grep -q "No tests were found" "$CT_LOG"; then
    echo "test.sh: ctest found no tests"
else
    echo "test.sh: ctest did not finish (no summary line)" >&2
    FAILED=$(( FAILED + 1 )); FAILED_NAMES+=("ctest")
fi

if [ "$QUICK" = 0 ] && [ "$ASAN" = 0 ]; then
    step "valgrind: unit tests"
    mkdir -p "$BUILD/memcheck"
    for src in tests/unit/test_*.c; do
        [ -e "$src" ] || continue
        name="$(basename "$src" .c)"
        if [ -n "$FILTER" ] && ! grep -qE "$FILTER" <<<"unit_$name"; then continue; fi
        exe="$BUILD/$name"
        log="$BUILD/memcheck/$name.log"
        if [ ! -x "$exe" ]; then
            echo "memcheck_$name: FAILED (no executable $exe)"
            FAILED=$(( FAILED + 1 )); FAILED_NAMES+=("memcheck_$name"); continue
        fi
        set +e
        (cd "$BUILD" && timeout "${MVP_TEST_TIMEOUT:-900}" valgrind --quiet --leak-check=full \
            --error-exitcode=1 --track-origins=yes --log-file="$log" "$exe") </dev/null >"$log.out" 2>&1
        rc=$?
        set -e
        if [ "$rc" = 0 ]; then
            echo "memcheck_$name: ok"
            PASSED=$(( PASSED + 1 ))
        else
            echo "memcheck_$name: FAILED (exit $rc; valgrind log $log)"
            tail -n 40 "$log.out" "$log"
            FAILED=$(( FAILED + 1 )); FAILED_NAMES+=("memcheck_$name")
        fi
    done
fi

# Fuzz targets (fuzz/README.md): a fixed short run, MVP_FUZZ_SECONDS (default
# 20) per target; runs with no -R filter or one matching "fuzz". One step:
# its failure (a crash, leak or timeout) counts as one failed test.
if [ -z "$FILTER" ] || grep -qE "$FILTER" <<<"fuzz"; then
    step "fuzz: ${MVP_FUZZ_SECONDS:-20}s per target"
    set +e
    MVP_FUZZ_BUILD="${MVP_FUZZ_BUILD:-$ROOT/build-fuzz}" bash fuzz/run.sh "${MVP_FUZZ_SECONDS:-20}"
    rc=$?
    set -e
    if [ "$rc" = 0 ]; then
        PASSED=$(( PASSED + 1 ))
    elif [ "$rc" = 77 ]; then
        echo "fuzz: skipped (no clang with libFuzzer)"
    else
        FAILED=$(( FAILED + 1 )); FAILED_NAMES+=("fuzz")
    fi
fi

step "done"
if [ "$FAILED" -gt 0 ]; then
    echo "failed: ${FAILED_NAMES[*]}"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
