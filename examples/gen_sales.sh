#!/usr/bin/env bash
# examples/gen_sales.sh - fill sales_demo.raw_sales with N deterministic
# pseudo-random sales, generated inside MariaDB by the Sequence engine
# (seq_1_to_N), in batches of 1M rows (one INSERT ... SELECT per batch, so
# the undo log and the binary log stay bounded at any N).
#
#   examples/gen_sales.sh [--rows N] [--append]
#
# Rows: --rows N, else $MVP_DEMO_ROWS, else 2000000. --append keeps the
# existing rows and continues after the largest sale_id.
# Connection: $MVP_DB_HOST (127.0.0.1), $MVP_DB_PORT (3306), $MVP_DB_USER
# (root), $MVP_DB_PASSWORD (empty); connect directly to MariaDB, not through
# the proxy (a bulk load is not dashboard traffic).
#
# The data: sale_id = seq; sale_date spread evenly over the 90 days up to
# today (today's sales stop at the current time, so "today" always has
# data); 20 regions, 40 categories, 5000 products, 100000 customers (so a
# customer buys in several categories a day: the distinct-customer point of
# the demo); ~80% 'completed', the rest cancelled / refunded / pending;
# sale_amount 5.00..2004.95, cost 50..89% of it. Values are a function of
# seq and of today's date only: the same N on the same day gives the same rows.
#
# Scaling to 100M+ rows: about 11 GB of InnoDB data and indexes per 100M rows
# (check `df`); give MariaDB a buffer pool of a few GB (scripts/mariadb.sh
# reads MVP_DB_BUFFER_POOL, default 2G) and expect roughly linear time per
# batch once the table outgrows the pool (the secondary indexes are the cost;
# measured figures are in README.md).
set -euo pipefail
ROWS="${MVP_DEMO_ROWS:-2000000}"
APPEND=0
BATCH=1000000
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS="$2"; shift 2 ;;
        --rows=*) ROWS="${1#--rows=}"; shift ;;
        --append) APPEND=1; shift ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "gen_sales: unknown option $1" >&2; exit 2 ;;
    esac
done
case "$ROWS" in ''|*[!0-9]*) echo "gen_sales: --rows wants a number, got '$ROWS'" >&2; exit 2 ;; esac

MY=(mariadb --no-defaults -h"${MVP_DB_HOST:-127.0.0.1}" -P"${MVP_DB_PORT:-3306}" -u"${MVP_DB_USER:-root}")
[ -n "${MVP_DB_PASSWORD:-}" ] && MY+=(-p"$MVP_DB_PASSWORD")
MY+=(--batch --skip-column-names sales_demo)

start=1
if [ "$APPEND" = 1 ]; then
    start=$(( $("${MY[@]}" -e "SELECT COALESCE(MAX(sale_id),0) FROM raw_sales") + 1 ))
fi
last=$(( start + ROWS - 1 ))
t0=$(date +%s%N)
# Into an empty table, load without the secondary indexes and build them at
# the end (sorted index builds: about 2x faster at 10M+ rows than keeping
# random-order date indexes up to date row by row).
ADD_KEYS=""
if [ "$("${MY[@]}" -e "SELECT COUNT(*) FROM (SELECT 1 FROM raw_sales LIMIT 1) t")" = 0 ]; then
    drops=""
    while IFS=$'\t' read -r name nonuniq cols; do
        [ -n "$name" ] || continue
        drops+="${drops:+, }DROP INDEX \`$name\`"
        uniq=""; [ "$nonuniq" = 0 ] && uniq="UNIQUE "
        ADD_KEYS+="${ADD_KEYS:+, }ADD ${uniq}KEY \`$name\` ($cols)"
    done < <("${MY[@]}" -e "
        SELECT INDEX_NAME, NON_UNIQUE,
               GROUP_CONCAT(CONCAT('\`', COLUMN_NAME, '\`') ORDER BY SEQ_IN_INDEX SEPARATOR ', ')
        FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'raw_sales' AND INDEX_NAME <> 'PRIMARY'
        GROUP BY INDEX_NAME, NON_UNIQUE")
    [ -n "$drops" ] && "${MY[@]}" -e "ALTER TABLE raw_sales $drops"
fi
# A fresh load before any view exists need not go to the binary log (half
# the write volume); an --append is a change the views must see.
LOGBIN=0; [ "$APPEND" = 1 ] && LOGBIN=1
lo=$start
while [ "$lo" -le "$last" ]; do
    hi=$(( lo + BATCH - 1 )); [ "$hi" -gt "$last" ] && hi=$last
    # h1: day, region, category, status, cost ratio; h2: second, product;
    # h3: customer, amount. CRC32 of three different strings per row.
    "${MY[@]}" <<SQL
SET SESSION sql_log_bin = $LOGBIN, unique_checks = 0, foreign_key_checks = 0;
SET @secs_today = GREATEST(TIME_TO_SEC(CURTIME()), 1);
INSERT INTO raw_sales
SELECT seq,
       CURDATE() - INTERVAL (h1 % 90) DAY
           + INTERVAL (IF(h1 % 90 = 0, h2 % @secs_today, h2 % 86400)) SECOND,
       1 + (h1 DIV 90) % 20,
       1 + (h1 DIV 1800) % 40,
       1 + (h2 DIV 86400) % 5000,
       1 + h3 % 100000,
       CASE (h1 DIV 72000) % 10 WHEN 8 THEN 'cancelled' WHEN 9 THEN
            IF(h3 % 2 = 0, 'refunded', 'pending') ELSE 'completed' END,
       5 + ((h3 DIV 100000) % 40000) * 0.05,
       ROUND((5 + ((h3 DIV 100000) % 40000) * 0.05) * (50 + (h1 DIV 720000) % 40) / 100, 2)
FROM (SELECT seq, CRC32(seq) AS h1, CRC32(CONCAT('p', seq)) AS h2,
             CRC32(CONCAT('c', seq)) AS h3
      FROM seq_${lo}_to_${hi}) AS s;
SQL
    lo=$(( hi + 1 ))
done
[ -n "$ADD_KEYS" ] && "${MY[@]}" -e "ALTER TABLE raw_sales $ADD_KEYS"
"${MY[@]}" -e "ANALYZE TABLE raw_sales" >/dev/null
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
printf 'gen_sales: %d rows (sale_id %d..%d) in %d.%03d s\n' "$ROWS" "$start" "$last" $((ms / 1000)) $((ms % 1000))
