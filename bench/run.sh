#!/usr/bin/env bash
# bench/run.sh - speed, measured as ratios against direct connections in the
# same run (never as timed assertions in tests):
#
#   1. the demo at --rows N (default 10000000): for each dashboard query the
#      median time directly and through the proxy (answered from a view),
#      and the DWD's refresh tasks: REFRESH ... AUTO of the two changed days
#      against the complete build at CREATE;
#   2. bench/relay_bench against the same MariaDB and proxy: the proxy's
#      overhead on queries it only relays (point queries, 1 and 4 clients;
#      a 1M-row result);
#   3. bench/path.sh (bench/path_bench with a proxy of its own, TLS on,
#      database bench_path) against the same MariaDB: a rewritten aggregate
#      against the same SQL direct, the validation cache's hit against its
#      miss, SELECT 1 / point queries / connects over TLS;
#   4. bench/callgrind.sh (skipped without valgrind, or with --no-callgrind):
#      the proxy's instructions per query (relayed SELECT 1, relayed point
#      query, rewritten aggregate with the same and with a new text).
#
#   5. with --tpch: bench/tpch.sh against the same MariaDB (TPC-H and SSB at
#      SF 0.05 with their views, direct against proxy per query; ~5 min).
#
#   bench/run.sh [--rows N] [--runs K] [--small N] [--large-rows M]
#                [--no-callgrind] [--tpch]
#
# Prints a summary of the ratios at the end; the full output goes to
# .run/bench-<date>.log. Needs what scripts/demo.sh needs (root on a fresh
# machine: it installs packages) and, at 10M rows, ~3 GB of disk and 15-20
# min (most of it the DWD's complete build, partition by partition).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROWS=10000000
RUNS=5
SMALL=20000
LARGE=1000000
CALLGRIND=1
TPCH=0
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --small) SMALL="$2"; shift 2 ;;
        --large-rows) LARGE="$2"; shift 2 ;;
        --no-callgrind) CALLGRIND=0; shift ;;
        --tpch) TPCH=1; shift ;;
        -h|--help) sed -n '2,/^set -e/{/^set -e/!p}' "$0"; exit 0 ;;
        *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
RUN_DIR="${MVP_DEMO_RUN_DIR:-$ROOT/.run/demo-mariadb}"
mkdir -p "$ROOT/.run"
LOG="$ROOT/.run/bench-$(date +%Y%m%d-%H%M%S).log"
BUILD="${MVP_BUILD_DIR:-$ROOT/build}"

stop_all() {
    if [ -f "$RUN_DIR/proxy.env" ]; then
        # shellcheck disable=SC1091
        . "$RUN_DIR/proxy.env"
        if kill -0 "$PROXY_PID" 2>/dev/null; then
            kill -TERM "$PROXY_PID" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
        fi
    fi
    MVP_RUN_DIR="$RUN_DIR" bash "$ROOT/scripts/mariadb.sh" stop >/dev/null 2>&1 || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "bench: demo at $ROWS rows (log $LOG)"
rc=0
bash scripts/demo.sh --rows "$ROWS" --runs "$RUNS" --keep 2>&1 | tee "$LOG" || rc=$?
if [ "$rc" != 0 ]; then
    echo "bench: the demo failed (exit $rc); see $LOG" >&2
    exit "$rc"
fi
cmake --build "$BUILD" -j"${MVP_JOBS:-2}" --target relay_bench path_bench >/dev/null
set -a
# shellcheck disable=SC1091
. "$RUN_DIR/env"
# shellcheck disable=SC1091
. "$RUN_DIR/proxy.env"
set +a

echo
echo "bench: relay overhead (relay_bench)" | tee -a "$LOG"
"$BUILD/relay_bench" --direct "127.0.0.1:$MVP_DB_PORT" --proxy "127.0.0.1:$PROXY_PORT" \
    --small "$SMALL" --large-rows "$LARGE" 2>&1 | tee -a "$LOG"

# The next two start proxies of their own (path.sh: TLS on; callgrind.sh:
# under valgrind) against the demo's MariaDB, with databases of their own.
failed=""
echo
echo "bench: proxy paths (bench/path.sh)" | tee -a "$LOG"
MVP_BUILD_DIR="$BUILD" bash "$ROOT/bench/path.sh" 2>&1 | tee -a "$LOG" || failed="$failed path.sh"
if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
    echo
    echo "bench: instructions per query (bench/callgrind.sh)" | tee -a "$LOG"
    MVP_BUILD_DIR="$BUILD" bash "$ROOT/bench/callgrind.sh" 2>&1 | tee -a "$LOG" ||
        failed="$failed callgrind.sh"
fi
if [ "$TPCH" = 1 ]; then
    cmake --build "$BUILD" -j"${MVP_JOBS:-2}" --target tpch_bench >/dev/null
    echo
    echo "bench: TPC-H and SSB (bench/tpch.sh)" | tee -a "$LOG"
    MVP_BUILD_DIR="$BUILD" bash "$ROOT/bench/tpch.sh" 2>&1 | tee -a "$LOG" || failed="$failed tpch.sh"
fi

echo
echo "=== bench summary ($ROWS rows)"
echo "  dashboard: direct/proxy = how many times faster through the proxy (answered from the view shown)"
echo "  relay: proxy/direct on queries the proxy only relays (1.00 = no overhead)"
# The first dashboard table of the demo (the timed one, before the freshness part).
awk '/^query .*direct ms/ { table++ ; next }
     table == 1 && /^[a-z] / {
        s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+x$/) { s = i; break }
        if (!s) next
        label = $1; for (i = 2; i < s - 2; i++) label = label " " $i
        view = $(s + 1); for (i = s + 2; i <= NF && $i != "yes" && $i != "NO"; i++) view = view " " $i
        printf "  dashboard %-46s direct %9.2f ms  proxy %8.2f ms  direct/proxy %8.1f  %s\n",
               label, $(s - 2), $(s - 1), $(s - 2) / $(s - 1), view }' "$LOG"
# The DWD's refresh tasks as the demo prints them (tasks('type'='mv')).
awk '$2 == "mv_dwd_sales" && $3 == "SUCCESS" && ($4 == "COMPLETE" || $4 == "PARTIAL") && !seen[$4]++ {
        ms[$4] = $5; rows[$4] = $6 }
     END { if (ms["COMPLETE"] && ms["PARTIAL"])
              printf "  refresh   mv_dwd_sales COMPLETE (build) %9.1f s  AUTO (2 changed days) %6.2f s  COMPLETE/AUTO %6.1f\n",
                     ms["COMPLETE"] / 1000, ms["PARTIAL"] / 1000, ms["COMPLETE"] / ms["PARTIAL"] }' "$LOG"
awk '/^bench: relay overhead/ { sec = "relay" }
     /^bench: proxy paths/ { sec = "path" }
     /^RATIO/ && sec == "relay" { printf "  relay     %-46s proxy/direct %.3f\n", $2, $3 }
     /^RATIO/ && sec == "path" { printf "  path      %-46s %.3f\n", $2, $3 }
     /^IR / { printf "  callgrind %-46s Ir/query %d\n", $2, $3 }
     /^== / { tp = $0 } /^summary: / && tp != "" { printf "  tpch      %s: %s\n", substr(tp, 4, 30), substr($0, 10) }' "$LOG"
echo "  path: rewrite_agg_* is direct/proxy (times faster); vcache_miss_over_hit and"
echo "        vcache_hit_over_point compare proxy paths; the others proxy/direct"
if [ -n "$failed" ]; then
    echo "bench: failed:$failed (see $LOG)" >&2
    exit 1
fi
