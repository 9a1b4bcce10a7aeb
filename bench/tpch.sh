#!/usr/bin/env bash
# bench/tpch.sh - TPC-H and SSB through mvproxy against the same queries
# direct (issue 12's proof): is any query slower through the proxy, and is
# every query a view answers much faster?
#
#   1. generates the data with its own deterministic generator (SQL over
#      MariaDB's sequence engine, bench/tpch/gen_*.sql; no dbgen): database
#      bench_tpch at --sf (default 0.05: lineitem ~300k rows) and bench_ssb
#      at --ssb-sf (default: --sf; lineorder ~300k rows at 0.05), with
#      primary keys and foreign-key indexes;
#   2. starts a proxy of its own (meta schema mvp_meta_tpchbench, or
#      $MVP_TPCH_META) and creates through it the views of
#      bench/tpch/views_tpch.sql and
#      views_ssb.sql (each build is timed, and must succeed);
#   3. runs bench/tpch_bench over bench/tpch/queries_tpch.sql (the 22
#      TPC-H queries), queries_tpch_literal.sql (those of them with date
#      arithmetic, the bounds folded to literals) and queries_ssb.sql (the
#      13 SSB queries): per query a warm-up direct and two through the proxy,
#      1 s for the proxy's cost estimate, EXPLAIN REWRITE, then --runs runs
#      per side alternating; medians, ratio direct/proxy, the rewrite status
#      and whether the rows are equal;
#   4. prints the tables and summaries; the tab-separated results are kept
#      in .run/tpch-<date>/.
#
#   bench/tpch.sh [--sf 0.05] [--ssb-sf SF] [--runs 5] [--confirm 21] [--reuse] [--keep]
#                 [--no-ssb] [--no-literal] [--only Q1,Q6,S2.1]
#
# --confirm N: a query below 0.9 at the median of --runs is measured again
# with N runs per side (0: not), shown on a second line; the summary says
# how many stay below 0.9.
# --reuse keeps data and views of an earlier --keep run with the same scale
# (no generation, no builds). --keep leaves the databases and views in
# place (otherwise they are dropped at the end).
#
# Runs against the MariaDB named by MVP_DB_HOST / MVP_DB_PORT / MVP_DB_USER
# (/ MVP_DB_PASSWORD): `set -a; . RUN_DIR/env; set +a` first. Without
# MVP_DB_PORT it starts a private instance in .run/tpch-mariadb
# (scripts/mariadb.sh) and stops it at the end. Needs build/mvproxy and
# build/tpch_bench (MVP_BUILD_DIR to use another build directory). About
# 5 minutes at the default scale on a 2-core machine. Exits 1 when a view
# fails to build, a query fails, or rows differ through the proxy; the
# speed targets are reported, not enforced. Not part of scripts/test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MVP_BUILD_DIR:-$ROOT/build}"
die() { echo "bench/tpch.sh: $*" >&2; exit 1; }
SF=0.05
SSB_SF=""
RUNS=5
CONFIRM=21
REUSE=0
KEEP=0
SSB=1
LITERAL=1
ONLY=()
while [ $# -gt 0 ]; do
    case "$1" in
        --sf) SF="$2"; shift 2 ;;
        --ssb-sf) SSB_SF="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --confirm) CONFIRM="$2"; shift 2 ;;
        --reuse) REUSE=1; shift ;;
        --keep) KEEP=1; shift ;;
        --no-ssb) SSB=0; shift ;;
        --no-literal) LITERAL=0; shift ;;
        --only) ONLY=(--only "$2"); shift 2 ;;
        -h|--help) sed -n '2,/^set -e/{/^set -e/!p}' "$0"; exit 0 ;;
        *) die "unknown option $1" ;;
    esac
done
[ -n "$SSB_SF" ] || SSB_SF="$SF"
awk -v s="$SF" -v t="$SSB_SF" 'BEGIN { exit !(s > 0 && s <= 10 && t > 0 && t <= 10) }' ||
    die "--sf / --ssb-sf must be in (0, 10]"
[ -x "$BUILD/mvproxy" ] && [ -x "$BUILD/tpch_bench" ] ||
    die "$BUILD/mvproxy or $BUILD/tpch_bench missing (cmake --build build --target mvproxy tpch_bench, or set MVP_BUILD_DIR)"

OWN_DB=0
if [ -z "${MVP_DB_PORT:-}" ]; then
    RUN_DIR="$ROOT/.run/tpch-mariadb"
    MVP_RUN_DIR="$RUN_DIR" bash "$ROOT/scripts/mariadb.sh" start
    set -a
    # shellcheck disable=SC1091
    . "$RUN_DIR/env"
    set +a
    OWN_DB=1
fi
DB_HOST="${MVP_DB_HOST:-127.0.0.1}"
DB_USER="${MVP_DB_USER:-root}"
DB_PASS="${MVP_DB_PASSWORD:-}"
SVC_USER="${MVP_SERVICE_USER:-$DB_USER}"
SVC_PASS="${MVP_SERVICE_PASSWORD:-$DB_PASS}"
META="${MVP_TPCH_META:-mvp_meta_tpchbench}"
OUT="$ROOT/.run/tpch-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PROXY_PID=""
direct() { MYSQL_PWD="$DB_PASS" mariadb --no-defaults -h "$DB_HOST" -P "$MVP_DB_PORT" -u "$DB_USER" "$@"; }
proxy() { MYSQL_PWD="$DB_PASS" mariadb --no-defaults -h 127.0.0.1 -P "$PORT" -u "$DB_USER" "$@"; }

# The statements of FILE (blocks starting at "-- @name"), one per line:
# name TAB statement.
statements() {
    awk '/^-- @/ { if (q != "") print q; q = ""; printf "%s\t", substr($0, 5); next }
         /^--/ { next } { q = q " " $0 } END { if (q != "") print q }' "$1"
}
view_names() { grep -h '^-- @' "$@" | cut -c5-; }

drop_views() {     # DB FILE: drop FILE's views in DB through the proxy
    local v
    for v in $(view_names "$2"); do
        proxy "$1" -e "DROP MATERIALIZED VIEW IF EXISTS $v" >/dev/null 2>&1 || true
    done
}

finish() {
    local rc=$?
    if [ -n "$PROXY_PID" ] && [ "$KEEP" = 0 ]; then
        drop_views bench_tpch "$ROOT/bench/tpch/views_tpch.sql"
        drop_views bench_ssb "$ROOT/bench/tpch/views_ssb.sql"
        direct -e "DROP DATABASE IF EXISTS bench_tpch; DROP DATABASE IF EXISTS bench_ssb;
                   DROP DATABASE IF EXISTS $META" >/dev/null 2>&1 || true
    fi
    if [ -n "$PROXY_PID" ]; then
        kill -TERM "$PROXY_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PROXY_PID" 2>/dev/null || true
    fi
    if [ "$OWN_DB" = 1 ]; then
        MVP_RUN_DIR="$RUN_DIR" bash "$ROOT/scripts/mariadb.sh" stop >/dev/null 2>&1 || true
    fi
    [ "$rc" = 0 ] || echo "bench/tpch.sh: failed (exit $rc); logs in $OUT" >&2
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

MVPROXY_SERVICE_PASSWORD="$SVC_PASS" "$BUILD/mvproxy" --listen "127.0.0.1:$PORT" \
    --backend "$DB_HOST:$MVP_DB_PORT" --service-user "$SVC_USER" --meta-schema "$META" \
    --tls-mode disabled >"$OUT/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$OUT/proxy.log" 2>/dev/null && break
    kill -0 "$PROXY_PID" 2>/dev/null || die "mvproxy exited; see $OUT/proxy.log"
    sleep 0.1
done
grep -q "listening on" "$OUT/proxy.log" || die "mvproxy did not start in 10 s; see $OUT/proxy.log"

n_of() { awk -v sf="$1" -v k="$2" 'BEGIN { n = int(sf * k + 0.5); print (n < 1 ? 1 : n) }'; }
gen() {    # DB SCHEMA GENERATOR SED-SCRIPT
    local t0 t1
    t0=$(date +%s.%N)
    direct -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1"
    direct "$1" <"$2"
    sed -e "$4" "$3" | direct "$1" >"$OUT/gen-$1.log"
    t1=$(date +%s.%N)
    echo "  $1: generated in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s:" \
        "$(direct -N "$1" -e "SELECT GROUP_CONCAT(CONCAT(table_name, ' ', table_rows) ORDER BY table_name SEPARATOR ', ')
                               FROM information_schema.tables WHERE table_schema = '$1'") (estimated rows)"
}
build_views() {    # DB FILE
    local name sql t0 t1 rows
    while IFS=$'\t' read -r name sql; do
        t0=$(date +%s.%N)
        proxy "$1" -e "$sql" 2>"$OUT/view-$name.err" ||
            die "CREATE MATERIALIZED VIEW $1.$name failed: $(cat "$OUT/view-$name.err")"
        t1=$(date +%s.%N)
        rows=$(direct -N "$1" -e "SELECT COUNT(*) FROM $name")
        printf '  %-22s built in %6.2f s, %7d rows\n' "$name" \
            "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$rows"
    done < <(statements "$2")
}

SCALE_TAG="sf=$SF ssb_sf=$SSB_SF"
if [ "$REUSE" = 1 ] && [ "$SSB" = 1 ] &&
   [ "$(direct -N bench_tpch -e "SELECT tag FROM bench_scale" 2>/dev/null)" = "$SCALE_TAG" ]; then
    echo "bench/tpch.sh: reusing bench_tpch / bench_ssb ($SCALE_TAG) and their views"
else
    echo "bench/tpch.sh: generating TPC-H at SF $SF and SSB at SF $SSB_SF"
    drop_views bench_tpch "$ROOT/bench/tpch/views_tpch.sql"
    drop_views bench_ssb "$ROOT/bench/tpch/views_ssb.sql"
    P=$(n_of "$SF" 200000) S=$(n_of "$SF" 10000) C=$(n_of "$SF" 150000) O=$(n_of "$SF" 1500000)
    CL=$(n_of "$SF" 1000)
    [ "$S" -ge 4 ] || die "--sf $SF is too small"
    [ "$C" -ge 3 ] || die "--sf $SF is too small"
    gen bench_tpch "$ROOT/bench/tpch/schema_tpch.sql" "$ROOT/bench/tpch/gen_tpch.sql" \
        "s/__P__/$P/g; s/__S__/$S/g; s/__C__/$C/g; s/__O__/$O/g; s/__CLERKS__/$CL/g"
    if [ "$SSB" = 1 ]; then
        # SSB at SF s: lineorder 6M*s rows (1.5M*s orders of 1..7 lines),
        # customer 30000*s, supplier 2000*s, part 200000*(1+log2 s) in SSB;
        # here at least 1000 suppliers and 20000 parts so that the city and
        # brand filters of flights 2 and 3 find rows at small scales.
        LO=$(n_of "$SSB_SF" 1500000) SC=$(n_of "$SSB_SF" 30000)
        SS=$(n_of "$SSB_SF" 2000); [ "$SS" -ge 1000 ] || SS=1000
        SP=$(n_of "$SSB_SF" 200000); [ "$SP" -ge 20000 ] || SP=20000
        gen bench_ssb "$ROOT/bench/tpch/schema_ssb.sql" "$ROOT/bench/tpch/gen_ssb.sql" \
            "s/__LO__/$LO/g; s/__S__/$SS/g; s/__C__/$SC/g; s/__P__/$SP/g"
    fi
    # What --reuse checks (a table of its own: DDL on a base table would
    # make the views stale).
    direct bench_tpch -e "CREATE TABLE bench_scale (tag VARCHAR(64) NOT NULL) AS SELECT '$SCALE_TAG' AS tag"
    echo "bench/tpch.sh: creating the views through the proxy"
    build_views bench_tpch "$ROOT/bench/tpch/views_tpch.sql"
    [ "$SSB" = 0 ] || build_views bench_ssb "$ROOT/bench/tpch/views_ssb.sql"
fi

rc=0
bench() {    # TITLE DB FILE TSV
    echo
    echo "== $1 (median of $RUNS per side; d/p = direct ms / proxy ms)"
    "$BUILD/tpch_bench" --direct "$DB_HOST:$MVP_DB_PORT" --proxy "127.0.0.1:$PORT" \
        --user "$DB_USER" --password "$DB_PASS" --db "$2" --queries "$3" --runs "$RUNS" \
        --tsv "$OUT/$4" --confirm "$CONFIRM" "${ONLY[@]}" || rc=1
}
bench "TPC-H, SF $SF, the 22 queries as the spec writes them" bench_tpch \
    "$ROOT/bench/tpch/queries_tpch.sql" tpch.tsv
[ "$LITERAL" = 0 ] || bench "TPC-H, SF $SF, date arithmetic folded to literals" bench_tpch \
    "$ROOT/bench/tpch/queries_tpch_literal.sql" tpch_literal.tsv
[ "$SSB" = 0 ] || bench "SSB, SF $SSB_SF, the 13 queries" bench_ssb \
    "$ROOT/bench/tpch/queries_ssb.sql" ssb.tsv
echo
echo "== RewriteHits (SHOW MATERIALIZED VIEWS through the proxy)"
for db in bench_tpch bench_ssb; do
    [ "$db" = bench_tpch ] || [ "$SSB" = 1 ] || continue
    proxy "$db" -e "SHOW MATERIALIZED VIEWS" | awk -F'\t' '
        NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "Name") n = i; if ($i == "RewriteHits") h = i } next }
        { printf "  %-22s %s\n", $n, $h }'
done
echo "bench/tpch.sh: results in $OUT"
exit "$rc"
