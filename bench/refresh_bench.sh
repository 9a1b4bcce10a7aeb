#!/usr/bin/env bash
# refresh_bench.sh - AUTO (one changed day) against COMPLETE on a view
# partitioned by day (SPEC §6; issue "refresh engine" benchmark).
#
#   ROWS rows over DAYS days in bench_refresh.sales (generated with MariaDB's
#   Sequence engine), view PARTITION BY (d) AS SELECT d, k, SUM(v), COUNT(*)
#   ... GROUP BY d, k; time REFRESH ... COMPLETE, then change one day through
#   the proxy and time REFRESH ... AUTO; print both and the ratio.
#
# Usage: bench/refresh_bench.sh [ROWS] [DAYS]      (default 1000000 30)
# Needs: MVP_DB_PORT (scripts/mariadb.sh env), MVP_BUILD_DIR or build/mvproxy.
set -euo pipefail
ROWS=${1:-1000000}
DAYS=${2:-30}
HOST=${MVP_DB_HOST:-127.0.0.1}
PORT=${MVP_DB_PORT:?set MVP_DB_PORT (source the mariadb.sh env file)}
BIN=${MVP_PROXY_BIN:-${MVP_BUILD_DIR:-build}/mvproxy}
PPORT=${BENCH_PROXY_PORT:-16099}
DB=bench_refresh
META=mvp_meta_bench_refresh

direct() { mariadb --no-defaults -h"$HOST" -P"$PORT" -uroot -N -B "$@"; }
viaproxy() { mariadb --no-defaults -h127.0.0.1 -P"$PPORT" -uroot -N -B "$DB" "$@"; }
now() { date +%s.%N; }

# the base table is RANGE partitioned by day, like the seed's sales table
parts=""
for i in $(seq 1 "$DAYS"); do
    parts="$parts PARTITION p$i VALUES LESS THAN ('$(date -d "2024-01-01 + $i day" +%F)'),"
done
parts="$parts PARTITION pmax VALUES LESS THAN (MAXVALUE)"
echo "generating $ROWS rows over $DAYS days ..."
t0=$(now)
direct -e "DROP DATABASE IF EXISTS $DB; DROP DATABASE IF EXISTS $META; CREATE DATABASE $DB;
  CREATE TABLE $DB.sales (id INT NOT NULL, d DATE NOT NULL, k INT NOT NULL,
    v DECIMAL(12,2) NOT NULL, PRIMARY KEY (id, d)) ENGINE=InnoDB
    PARTITION BY RANGE COLUMNS (d) ($parts);
  SET SESSION unique_checks = 0;
  INSERT INTO $DB.sales SELECT seq, DATE '2024-01-01' + INTERVAL (seq % $DAYS) DAY,
    seq % 100, (seq % 997) / 10 FROM $DB.seq_1_to_$ROWS;"
t1=$(now)
printf 'generated in %.1f s\n' "$(echo "$t1 - $t0" | bc)"

"$BIN" --listen 127.0.0.1:$PPORT --backend "$HOST:$PORT" --service-user mvproxy \
    --service-password mvproxy --meta-schema $META --log-level warn 2>/tmp/refresh_bench.log &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
    viaproxy -e "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.2
done

viaproxy -e "CREATE MATERIALIZED VIEW mv_day BUILD DEFERRED REFRESH AUTO ON MANUAL
  PARTITION BY (d) AS SELECT d, k, SUM(v) AS s, COUNT(*) AS c FROM sales GROUP BY d, k"

t0=$(now)
viaproxy -e "REFRESH MATERIALIZED VIEW mv_day COMPLETE"
t1=$(now)
complete=$(echo "$t1 - $t0" | bc)

# change one day through the proxy: only that partition becomes stale
viaproxy -e "UPDATE sales SET v = v + 1 WHERE d = DATE '2024-01-15' AND k = 7"
t0=$(now)
viaproxy -e "REFRESH MATERIALIZED VIEW mv_day AUTO"
t1=$(now)
auto=$(echo "$t1 - $t0" | bc)
written=$(direct -e "SELECT row_count FROM $META.tasks ORDER BY task_id DESC LIMIT 1")
check=$(direct -e "SELECT COUNT(*) FROM (SELECT d, k, SUM(v) s, COUNT(*) c FROM $DB.sales
  GROUP BY d, k) q LEFT JOIN $DB.mv_day m USING (d, k, s, c) WHERE m.d IS NULL")

printf 'rows=%s days=%s\n' "$ROWS" "$DAYS"
printf 'COMPLETE: %.2f s\n' "$complete"
printf 'AUTO (1 changed day, %s view rows rewritten): %.2f s\n' "$written" "$auto"
printf 'ratio COMPLETE/AUTO: %.1fx\n' "$(echo "$complete / $auto" | bc -l)"
printf 'view rows differing from the definition: %s\n' "$check"
[ "$check" = "0" ]
