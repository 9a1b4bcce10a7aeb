#!/usr/bin/env bash
# scripts/demo.sh - THE demo (README's first command): the seed's real-time
# sales dashboard (../shared/seeds/000-realtime-sales-dashboard.txt) on a
# private MariaDB behind mvproxy.
#
#   1. packages (scripts/deps.sh) and a build (build/: mvproxy, dashboard),
#   2. a private MariaDB in .run/demo-mariadb (fresh; stopped at the end,
#      on failure and on Ctrl-C),
#   3. raw_sales (examples/schema.sql) filled by examples/gen_sales.sh,
#      directly,
#   4. mvproxy on a free port; the DWD / DWS / ADS views (examples/views.sql)
#      created THROUGH the proxy with its admin SQL; SHOW MATERIALIZED VIEWS,
#   5. the dashboard (examples/dashboard): each query direct and through the
#      proxy - times, the view chosen, rows identical - and the
#      distinct-customer point,
#   6. freshness: a new sale through the proxy makes the views stale
#      (EXPLAIN REWRITE: the DWD, grace 0, is no longer used; the DWS/ADS,
#      grace 60 s, still are); a sale written directly into MariaDB is seen
#      through the binary log; REFRESH the three layers in order, the views
#      answer again and the rows match.
#
#   scripts/demo.sh [--rows N] [--runs K] [--keep]
#     --rows N   rows of raw_sales (default $MVP_DEMO_ROWS or 2000000; 100M+
#                works, see README "Scaling the demo")
#     --runs K   timed runs per query and connection (median; default 3)
#     --keep     leave MariaDB and the proxy running at the end (prints how
#                to connect and how to stop them)
#     --no-build use the binaries already in the build directory
# Exit status 0 only when every step worked and every query through the
# proxy returned the same rows as MariaDB.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ROWS="${MVP_DEMO_ROWS:-2000000}"
RUNS=3
KEEP=0
BUILD_IT=1
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS="$2"; shift 2 ;;
        --rows=*) ROWS="${1#--rows=}"; shift ;;
        --runs) RUNS="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --no-build) BUILD_IT=0; shift ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$ROWS" in ''|*[!0-9]*) echo "demo.sh: --rows wants a number" >&2; exit 2 ;; esac

BUILD="${MVP_BUILD_DIR:-$ROOT/build}"
RUN_DIR="${MVP_DEMO_RUN_DIR:-$ROOT/.run/demo-mariadb}"
T0=$(date +%s%N)
elapsed() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '%d.%01ds' $((ms / 1000)) $(( (ms % 1000) / 100 )); }
step() { printf '\n=== [%s] %s\n' "$(elapsed)" "$*"; }
# Time one command; prints "  <label>: N.NNN s".
timed() {
    local label="$1"; shift
    local t
    t=$(date +%s%N)
    "$@"
    local ms=$(( ($(date +%s%N) - t) / 1000000 ))
    printf '  %s: %d.%03d s\n' "$label" $((ms / 1000)) $((ms % 1000))
}

step "packages"
bash scripts/deps.sh

step "build ($BUILD: mvproxy, dashboard)"
if [ "$BUILD_IT" = 0 ]; then
    echo "  --no-build: using $BUILD/mvproxy and $BUILD/dashboard as they are"
elif [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
if [ "$BUILD_IT" = 1 ]; then
    cmake --build "$BUILD" -j"${MVP_JOBS:-2}" --target mvproxy dashboard >"$BUILD/demo-build.log" 2>&1 || {
        tail -40 "$BUILD/demo-build.log" >&2
        echo "demo.sh: build failed (log $BUILD/demo-build.log)" >&2; exit 1; }
fi

PROXY_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$KEEP" = 1 ] && [ "$rc" = 0 ]; then
        echo
        echo "Left running (--keep): MariaDB 127.0.0.1:$MVP_DB_PORT, mvproxy 127.0.0.1:${PROXY_PORT:-?} (pid $PROXY_PID)"
        echo "  mariadb -h127.0.0.1 -P${PROXY_PORT:-?} -uroot sales_demo"
        echo "  stop: kill $PROXY_PID; MVP_RUN_DIR=$RUN_DIR scripts/mariadb.sh stop"
        exit 0
    fi
    if [ -n "$PROXY_PID" ] && kill -0 "$PROXY_PID" 2>/dev/null; then
        kill -TERM "$PROXY_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$PROXY_PID" 2>/dev/null && kill -KILL "$PROXY_PID" 2>/dev/null
        local prc=0
        wait "$PROXY_PID" 2>/dev/null || prc=$?
        if [ "$prc" != 0 ]; then
            echo "demo.sh: warning: mvproxy exited with status $prc on SIGTERM (log $RUN_DIR/mvproxy.log)" >&2
        fi
    fi
    MVP_RUN_DIR="$RUN_DIR" bash "$ROOT/scripts/mariadb.sh" stop >/dev/null 2>&1 || true
    [ "$rc" != 0 ] && echo "demo.sh: FAILED (exit $rc) at $(elapsed); proxy log: $RUN_DIR/mvproxy.log" >&2
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "private MariaDB ($RUN_DIR)"
export MVP_RUN_DIR="$RUN_DIR"
bash scripts/mariadb.sh stop >/dev/null 2>&1 || true
rm -rf "$RUN_DIR/data" "$RUN_DIR"/binlog.*   # refreshes leave GBs of binlog at 10M+ rows
# A free port every time (an MVP_DB_PORT left in the environment would pin it).
env -u MVP_DB_PORT bash scripts/mariadb.sh start
set -a
# shellcheck disable=SC1091
. "$RUN_DIR/env"
set +a
DIRECT=(mariadb --no-defaults -h127.0.0.1 -P"$MVP_DB_PORT" -uroot)

step "raw_sales: schema and $ROWS generated rows (directly into MariaDB)"
"${DIRECT[@]}" < examples/schema.sql
bash examples/gen_sales.sh --rows "$ROWS"
"${DIRECT[@]}" --table sales_demo -e "
    SELECT COUNT(*) AS sales_rows, SUM(status = 'completed') AS completed,
           MIN(sale_date) AS first_sale, MAX(sale_date) AS last_sale,
           SUM(sale_date >= CURDATE()) AS today
    FROM raw_sales"

step "mvproxy"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PROXY_PORT=""
for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 30000 ))
    if port_free "$p"; then PROXY_PORT=$p; break; fi
done
[ -n "$PROXY_PORT" ] || { echo "demo.sh: no free port" >&2; exit 1; }
"$BUILD/mvproxy" --listen "127.0.0.1:$PROXY_PORT" --backend "127.0.0.1:$MVP_DB_PORT" \
    --service-user mvproxy --service-password mvproxy --meta-schema mvproxy_meta \
    --threads 2 --log-level info >"$RUN_DIR/mvproxy.log" 2>&1 </dev/null &
PROXY_PID=$!
PROXY=(mariadb --no-defaults -h127.0.0.1 -P"$PROXY_PORT" -uroot)
up=0
for _ in $(seq 1 100); do
    if ! kill -0 "$PROXY_PID" 2>/dev/null; then break; fi
    if "${PROXY[@]}" -e "SELECT 1" >/dev/null 2>&1; then up=1; break; fi
    sleep 0.1
done
if [ "$up" = 0 ]; then
    echo "demo.sh: mvproxy did not answer on 127.0.0.1:$PROXY_PORT; its log:" >&2
    tail -20 "$RUN_DIR/mvproxy.log" >&2
    exit 1
fi
printf 'PROXY_PORT=%s\nPROXY_PID=%s\n' "$PROXY_PORT" "$PROXY_PID" >"$RUN_DIR/proxy.env"
echo "  $("$BUILD/mvproxy" --version 2>&1 | head -1) listening on 127.0.0.1:$PROXY_PORT (pid $PROXY_PID)," \
     "backend 127.0.0.1:$MVP_DB_PORT; log $RUN_DIR/mvproxy.log"

step "the three layers, created through the proxy (examples/views.sql)"
quiet() { "$@" >/dev/null; }
# One statement at a time, so each step's time shows.
create_views() {
    local stmt="" line name
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in --*|'') [ -z "$stmt" ] && continue ;; esac
        stmt+="$line"$'\n'
        if [[ "$line" =~ \;[[:space:]]*$ ]]; then
            name=$(head -1 <<<"$stmt" | sed -E 's/;[[:space:]]*$//')
            case "$stmt" in
                *"BUILD DEFERRED"*) name+=" (BUILD DEFERRED)" ;;
                *"BUILD IMMEDIATE"*) name+=" (BUILD IMMEDIATE)" ;;
            esac
            timed "$name" quiet "${PROXY[@]}" sales_demo -e "$stmt"
            stmt=""
        fi
    done < examples/views.sql
}
create_views

# Print a tab-separated result (header first) as aligned columns, keeping
# only the columns named in $1 (all when empty).
columns() {
    awk -F'\t' -v want="$1" '
        NR == 1 { n = split(want, w, " ")
                  for (i = 1; i <= NF; i++) col[$i] = i
                  if (n == 0) for (i = 1; i <= NF; i++) show[++m] = i
                  for (k = 1; k <= n; k++) if (w[k] in col) show[++m] = col[w[k]] }
        { for (k = 1; k <= m; k++) { cell[NR, k] = $show[k]
                                     if (length($show[k]) > width[k]) width[k] = length($show[k]) } }
        END { for (r = 1; r <= NR; r++) { line = " "
                  for (k = 1; k <= m; k++) line = line " " sprintf("%-*s", width[k], cell[r, k])
                  print line } }'
}
# Selected columns of SHOW MATERIALIZED VIEWS (the full row is wide).
show_views() {
    "${PROXY[@]}" --batch sales_demo -e "SHOW MATERIALIZED VIEWS" |
        columns "Name State RefreshState SyncWithBaseTables GracePeriod Rows Staleness LastRefreshTime RewriteHits"
}
echo
echo "SHOW MATERIALIZED VIEWS (some columns):"
show_views

step "the dashboard: direct vs through the proxy (examples/dashboard.sql)"
DASH_RC=0
"$BUILD/dashboard" --direct "127.0.0.1:$MVP_DB_PORT" --proxy "127.0.0.1:$PROXY_PORT" \
    --file examples/dashboard.sql --runs "$RUNS" --verbose || DASH_RC=$?

step "freshness: a new sale for today, written through the proxy"
TODAY=$("${DIRECT[@]}" -N -e "SELECT CURDATE()")
TOMORROW=$("${DIRECT[@]}" -N -e "SELECT CURDATE() + INTERVAL 1 DAY")
TREND_START=$("${DIRECT[@]}" -N -e "SELECT CURDATE() - INTERVAL 29 DAY")
Q_A="SELECT COUNT(*) AS orders, SUM(sale_amount) AS sales, COUNT(DISTINCT customer_id) AS customers FROM raw_sales WHERE status = 'completed' AND sale_date >= '$TODAY' AND sale_date < '$TOMORROW'"
Q_C="SELECT DATE(sale_date) AS day, COUNT(*) AS orders, SUM(sale_amount) AS sales FROM raw_sales WHERE status = 'completed' AND sale_date >= '$TREND_START' AND sale_date < '$TOMORROW' GROUP BY DATE(sale_date) ORDER BY day"
explain() {
    # mv_name, status, reason, stale_partitions of EXPLAIN REWRITE
    "${PROXY[@]}" --batch sales_demo -e "EXPLAIN REWRITE $1" | awk -F'\t' '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        { r = $col["reason"]; if (length(r) > 90) r = substr(r, 1, 87) "..."
          printf "    %-34s %-19s %s\n", ($col["mv_name"] == "NULL" ? "(summary)" : $col["mv_name"]), $col["status"], r }'
}
NEW_ID=$(( $("${DIRECT[@]}" -N sales_demo -e "SELECT MAX(sale_id) FROM raw_sales") + 1 ))
timed "INSERT INTO raw_sales ... (sale $NEW_ID, 1000.00, today) through the proxy" \
    "${PROXY[@]}" sales_demo -e "INSERT INTO raw_sales VALUES ($NEW_ID, NOW(), 1, 1, 1, 424242, 'completed', 1000.00, 600.00)"
echo
echo "  EXPLAIN REWRITE (a) today's overview - needs mv_dwd_sales, whose grace_period is 0:"
explain "$Q_A"
echo "  EXPLAIN REWRITE (c) daily trend - mv_ads_daily_summary has a grace_period of 60 s:"
explain "$Q_C"
echo
echo "  today's orders through the proxy: (a) reads raw_sales, so it has the new sale;"
echo "  the trend (c) answers from the ADS, which may lag up to 60 s - the grace period's contract:"
printf '    (a) through the proxy: %s orders today\n' \
    "$("${PROXY[@]}" -N sales_demo -e "$Q_A" | cut -f1)"
printf '    (c) through the proxy: %s orders today;  directly: %s\n' \
    "$("${PROXY[@]}" -N sales_demo -e "$Q_C" | awk -F'\t' -v d="$TODAY" '$1 == d { print $2 }')" \
    "$("${DIRECT[@]}" -N sales_demo -e "$Q_C" | awk -F'\t' -v d="$TODAY" '$1 == d { print $2 }')"
echo
echo "SHOW MATERIALIZED VIEWS after the insert:"
show_views

step "freshness: a sale written directly into MariaDB, bypassing the proxy"
SOURCE=$("${PROXY[@]}" --batch sales_demo -e "SHOW MATERIALIZED VIEWS" |
    awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "FreshnessSource") c = i; next }
                 NR == 2 && c { print $c }')
echo "  the proxy's source of changes (FreshnessSource): ${SOURCE:-unknown}"
# Refresh the DWD first, so that the direct write is what makes it stale.
timed "REFRESH MATERIALIZED VIEW mv_dwd_sales COMPLETE" \
    "${PROXY[@]}" sales_demo -e "REFRESH MATERIALIZED VIEW mv_dwd_sales COMPLETE"
NEW_ID=$(( NEW_ID + 1 ))
timed "INSERT INTO raw_sales ... (sale $NEW_ID, today) directly into MariaDB" \
    "${DIRECT[@]}" sales_demo -e "INSERT INTO raw_sales VALUES ($NEW_ID, NOW(), 2, 2, 2, 424243, 'completed', 500.00, 300.00)"
seen=""
t_seen=$(date +%s%N)
for _ in $(seq 1 50); do
    sync=$("${PROXY[@]}" --batch sales_demo -e "SHOW MATERIALIZED VIEWS LIKE 'mv_dwd_sales'" |
        awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "SyncWithBaseTables") c = i; next } { print $c }')
    if [ "$sync" = 0 ]; then seen=1; break; fi
    sleep 0.1
done
if [ -n "$seen" ]; then
    echo "  the proxy saw it after $(( ($(date +%s%N) - t_seen) / 1000000 )) ms: mv_dwd_sales is stale again"
else
    echo "  the proxy did not see it within 5 s: a write that bypasses the proxy is"
    echo "  only seen through the binary log (see README, \"How freshness works\");"
    echo "  refresh the views after direct loads"
fi
echo "  EXPLAIN REWRITE (a) today's overview:"
explain "$Q_A"

step "refresh the three layers, bottom up"
for mv in mv_dwd_sales mv_dws_sales mv_ads_daily_summary; do
    timed "REFRESH MATERIALIZED VIEW $mv COMPLETE" "${PROXY[@]}" sales_demo -e "REFRESH MATERIALIZED VIEW $mv COMPLETE"
done
echo
echo "  EXPLAIN REWRITE (a) after the refresh:"
explain "$Q_A"
echo "  EXPLAIN REWRITE (c) after the refresh:"
explain "$Q_C"
echo
echo "SHOW MATERIALIZED VIEWS after the refresh:"
show_views

step "the dashboard again, after the refresh (rows only)"
"$BUILD/dashboard" --direct "127.0.0.1:$MVP_DB_PORT" --proxy "127.0.0.1:$PROXY_PORT" \
    --file examples/dashboard.sql --runs 0 || DASH_RC=$?

step "done"
if [ "$DASH_RC" != 0 ]; then
    echo "demo.sh: some dashboard rows differed between MariaDB and the proxy (see above)" >&2
    exit 1
fi
echo "demo: OK - every dashboard query returned the same rows through the proxy as directly ($(elapsed) total)"
