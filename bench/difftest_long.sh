#!/usr/bin/env bash
# The differential tester's long pass (tests/cases/difftest.c): many seeds,
# a query count or a time budget per seed.
#
#   bench/difftest_long.sh [--queries N | --time-budget SEC] [--seeds "1 2 3"] [difftest options]
#
# Defaults: --queries 20000, seeds "1". Needs a MariaDB (MVP_DB_PORT, e.g.
# from scripts/mariadb.sh) and a build (MVP_BUILD_DIR, default build/).
# Reproducers of mismatches go to $OUT/difftest_failures_<seed>.case and
# each seed's log to $OUT/difftest_<seed>.log (OUT default /tmp/difftest-long).
# Exits non-zero when any seed had a mismatch or the proxy died.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${MVP_DB_PORT:-}" ] && [ -f "$ROOT/.run/mariadb/env" ]; then
    set -a; . "$ROOT/.run/mariadb/env"; set +a
fi
: "${MVP_DB_PORT:?MVP_DB_PORT not set: start scripts/mariadb.sh}"
export MVP_DB_HOST="${MVP_DB_HOST:-127.0.0.1}"
export MVP_BUILD_DIR="${MVP_BUILD_DIR:-$ROOT/build}"
export MVP_PROXY_BIN="${MVP_PROXY_BIN:-$MVP_BUILD_DIR/mvproxy}"
BIN="${MVP_DIFFTEST_BIN:-$MVP_BUILD_DIR/difftest}"
[ -x "$BIN" ] || { echo "difftest_long: $BIN not built" >&2; exit 1; }
OUT="${OUT:-/tmp/difftest-long}"
mkdir -p "$OUT"
seeds="1"
limit=(--queries 20000)
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seeds) seeds="$2"; shift 2 ;;
        --queries) limit=(--queries "$2"); shift 2 ;;
        --time-budget) limit=(--time-budget "$2"); shift 2 ;;
        *) extra+=("$1"); shift ;;
    esac
done
status=0
for s in $seeds; do
    rm -f "$OUT/difftest_failures_$s.case"
    rc=0
    "$BIN" --seed "$s" "${limit[@]}" --failures "$OUT/difftest_failures_$s.case" "${extra[@]}" \
        >"$OUT/difftest_$s.log" 2>&1 || rc=$?
    echo "seed $s: $(grep -E '^queries [0-9]+' "$OUT/difftest_$s.log" | tail -1)" \
         "($(grep -E '^case-only differences' "$OUT/difftest_$s.log" | sed 's/.*: //') case-only) exit $rc"
    [ "$rc" -eq 0 ] || status=1
done
exit "$status"
