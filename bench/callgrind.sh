#!/usr/bin/env bash
# bench/callgrind.sh - instructions the proxy executes per query (Ir, counted
# by valgrind's callgrind; independent of the machine's load, unlike time):
#
#   select1  a relayed SELECT 1 (same text: the decision comes from the cache)
#   point    a relayed point query over a table a view reads, new text each
#            time (parse + match, then relayed)
#   agg      a rewritten aggregate answered from the view (same text: the
#            validation cache hits; the original is not prepared again)
#   agg_new  the same aggregate with a new text each time (WHERE g < K):
#            parse, match, rewrite and the validation PREPARE every time
#
#   bench/callgrind.sh [--count N] [--rows R] [--keep-out]
#
# Starts its own mvproxy (from $MVP_BUILD_DIR, default ./build) under
# valgrind --tool=callgrind against the MariaDB of $MVP_DB_HOST/$MVP_DB_PORT
# ($MVP_DB_USER, default root, password $MVP_DB_PASSWORD; e.g. `set -a;
# . RUN_DIR/env; set +a`; service user $MVP_SERVICE_USER/$MVP_SERVICE_PASSWORD,
# default the same), creates database bench_cg (R rows, default 20000; the view
# bench_cg.mv_g through the proxy) with path_bench --workload setup, then for
# each kind: N queries to warm up, then N queries and 2N queries on one
# connection each, with callgrind_control -z before and -d after each phase
# (each phase 3 times, the least Ir counts). Ir per query = (Ir(2N) -
# Ir(N)) / N: the connection's own cost cancels out. Prints `IR name per_query`
# lines. The proxy, bench_cg and its metadata schema mvp_meta_cg are removed
# at the end; the callgrind files too unless --keep-out (they are in
# .run/callgrind-<date>/). Takes ~1-2 min at N=200.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MVP_BUILD_DIR:-$ROOT/build}"
COUNT=200
ROWS=20000
KEEP_OUT=0
while [ $# -gt 0 ]; do
    case "$1" in
        --count) COUNT="$2"; shift 2 ;;
        --rows) ROWS="$2"; shift 2 ;;
        --keep-out) KEEP_OUT=1; shift ;;
        -h|--help) sed -n '2,/^set -e/{/^set -e/!p}' "$0"; exit 0 ;;
        *) echo "bench/callgrind.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
die() { echo "bench/callgrind.sh: $*" >&2; exit 1; }
[ -n "${MVP_DB_PORT:-}" ] || die "MVP_DB_PORT is not set (source the run directory's env)"
command -v valgrind >/dev/null || die "valgrind is not installed"
command -v callgrind_control >/dev/null || die "callgrind_control is not installed"
if [ ! -x "$BUILD/mvproxy" ] || [ ! -x "$BUILD/path_bench" ]; then
    die "$BUILD/mvproxy or $BUILD/path_bench missing (build first, or set MVP_BUILD_DIR)"
fi
DB_HOST="${MVP_DB_HOST:-127.0.0.1}"
DB_USER="${MVP_DB_USER:-root}"
DB_PASS="${MVP_DB_PASSWORD:-}"
SVC_USER="${MVP_SERVICE_USER:-$DB_USER}"
SVC_PASS="${MVP_SERVICE_PASSWORD:-$DB_PASS}"
OUT="$ROOT/.run/callgrind-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PROXY_PID=""

sql_direct() {
    MYSQL_PWD="$DB_PASS" mariadb -h "$DB_HOST" -P "$MVP_DB_PORT" -u "$DB_USER" -N -e "$1"
}
finish() {
    local rc=$?
    if [ -n "$PROXY_PID" ]; then
        "$BUILD/path_bench" --direct "$DB_HOST:$MVP_DB_PORT" --proxy "127.0.0.1:$PORT" \
            --user "$DB_USER" --password "$DB_PASS" --db bench_cg --workload cleanup \
            >/dev/null 2>&1 || true
        kill -TERM "$PROXY_PID" 2>/dev/null || true
        for _ in $(seq 1 300); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PROXY_PID" 2>/dev/null || true
    fi
    sql_direct "DROP DATABASE IF EXISTS bench_cg; DROP DATABASE IF EXISTS mvp_meta_cg" \
        >/dev/null 2>&1 || true
    if [ "$KEEP_OUT" = 0 ] && [ "$rc" = 0 ]; then
        rm -rf "$OUT"
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

MVPROXY_SERVICE_PASSWORD="$SVC_PASS" valgrind --tool=callgrind \
    --callgrind-out-file="$OUT/cg.%p" \
    "$BUILD/mvproxy" --listen "127.0.0.1:$PORT" --backend "$DB_HOST:$MVP_DB_PORT" \
    --service-user "$SVC_USER" --meta-schema mvp_meta_cg --tls-mode disabled \
    >"$OUT/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 600); do
    grep -q "listening on" "$OUT/proxy.log" 2>/dev/null && break
    kill -0 "$PROXY_PID" 2>/dev/null || die "mvproxy under valgrind exited; see $OUT/proxy.log"
    sleep 0.1
done
grep -q "listening on" "$OUT/proxy.log" || die "mvproxy did not start in 60 s; see $OUT/proxy.log"

PB=("$BUILD/path_bench" --proxy "127.0.0.1:$PORT" --user "$DB_USER" --password "$DB_PASS"
    --db bench_cg)
"${PB[@]}" --direct "$DB_HOST:$MVP_DB_PORT" --workload setup --rows "$ROWS" ||
    die "setup of bench_cg through the proxy failed"

# The dumps so far (cg.PID.1, cg.PID.2, ...), oldest first.
dumps() {
    find "$OUT" -maxdepth 1 -name "cg.$PROXY_PID.*" -printf '%f\n' | sort -t. -k3 -n
}
# Ir of the newest dump (its totals: or summary: line).
last_ir() {
    local f
    f=$(dumps | tail -1)
    [ -n "$f" ] || die "callgrind wrote no dump"
    awk '/^(totals|summary):/ { print $2; exit }' "$OUT/$f"
}
# Zero, run $2 queries of kind $1, dump; print that phase's Ir.
phase() {
    local before after ir
    callgrind_control -z "$PROXY_PID" >/dev/null 2>&1 || die "callgrind_control -z failed"
    "${PB[@]}" --workload "$1" --count "$2" || die "workload $1 x$2 failed"
    before=$(dumps | wc -l)
    callgrind_control -d "$PROXY_PID" >/dev/null 2>&1 || die "callgrind_control -d failed"
    for _ in $(seq 1 100); do
        after=$(dumps | wc -l)
        [ "$after" -gt "$before" ] && break
        sleep 0.1
    done
    [ "$after" -gt "$before" ] || die "no new callgrind dump after $1 x$2"
    sleep 0.2
    ir=$(last_ir)
    [ -n "$ir" ] || die "no totals in the dump of $1 x$2"
    echo "$ir"
}

# The aggregate is answered from the view (else "agg" measures a relay).
for q in "SELECT g, SUM(amt) FROM t GROUP BY g" \
         "SELECT g, SUM(amt) FROM t WHERE g < 1000 GROUP BY g"; do
    MYSQL_PWD="$DB_PASS" mariadb -h 127.0.0.1 -P "$PORT" -u "$DB_USER" -N bench_cg \
        -e "EXPLAIN REWRITE $q" | grep -q REWRITTEN || die "the proxy does not rewrite: $q"
done

echo "callgrind: mvproxy pid $PROXY_PID on port $PORT, bench_cg.t $ROWS rows, N=$COUNT (out $OUT)"
printf '%-10s %16s %16s %14s\n' kind "Ir(N)" "Ir(2N)" "Ir/query"
for kind in select1 point agg agg_new; do
    "${PB[@]}" --workload "$kind" --count "$COUNT" || die "warm-up of $kind failed"
    # the least of 3 tries of each phase: a background tick (catalog poll,
    # binlog events) lands in some phases, not in all
    i1=""; i2=""
    for _ in 1 2 3; do
        a=$(phase "$kind" "$COUNT")
        b=$(phase "$kind" $((COUNT * 2)))
        if [ -z "$i1" ] || [ "$a" -lt "$i1" ]; then i1=$a; fi
        if [ -z "$i2" ] || [ "$b" -lt "$i2" ]; then i2=$b; fi
    done
    per=$(( (i2 - i1) / COUNT ))
    printf '%-10s %16s %16s %14s\n' "$kind" "$i1" "$i2" "$per"
    echo "IR $kind $per"
done
