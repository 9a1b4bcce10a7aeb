#!/usr/bin/env bash
# The differential tester's quick fixed-seed pass (tests/cases/difftest.c):
# random materialized views and random queries over the seed schemas, each
# query through mvproxy and directly, row multisets compared. Fails on any
# mismatch or when the proxy dies. The long pass is bench/difftest_long.sh.
#
# Env (set by scripts/test.sh): MVP_DB_HOST MVP_DB_PORT MVP_PROXY_BIN MVP_BUILD_DIR.
# MVP_DIFFTEST_QUERIES overrides the query count (default 6000, about two
# minutes on 2 cores).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -z "${MVP_DB_PORT:-}" ] && [ -f "$ROOT/.run/mariadb/env" ]; then
    set -a; . "$ROOT/.run/mariadb/env"; set +a
fi
: "${MVP_DB_PORT:?MVP_DB_PORT not set: start scripts/mariadb.sh or run scripts/test.sh}"
export MVP_DB_HOST="${MVP_DB_HOST:-127.0.0.1}"
export MVP_BUILD_DIR="${MVP_BUILD_DIR:-$ROOT/build}"
export MVP_PROXY_BIN="${MVP_PROXY_BIN:-$MVP_BUILD_DIR/mvproxy}"
BIN="$MVP_BUILD_DIR/difftest"
[ -x "$BIN" ] || { echo "t_difftest: $BIN not built" >&2; exit 1; }
FAIL="$MVP_BUILD_DIR/difftest_failures.case"
rm -f "$FAIL"
"$BIN" --self-test
rc=0
"$BIN" --seed 1 --queries "${MVP_DIFFTEST_QUERIES:-6000}" --failures "$FAIL" || rc=$?
if [ "$rc" -ne 0 ] && [ -f "$FAIL" ]; then
    echo "t_difftest: reproducers (case-table format) in $FAIL" >&2
fi
exit "$rc"
