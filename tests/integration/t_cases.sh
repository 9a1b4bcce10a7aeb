#!/usr/bin/env bash
# The rewrite case table (tests/cases/*.case, format in tests/cases/README.md)
# through a real mvproxy: runs the `cases` binary from $MVP_BUILD_DIR.
# Fails on any wrong rows or unmet expectation; known gaps are reported.
#
# Env (set by scripts/test.sh): MVP_DB_HOST MVP_DB_PORT MVP_PROXY_BIN MVP_BUILD_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -z "${MVP_DB_PORT:-}" ] && [ -f "$ROOT/.run/mariadb/env" ]; then
    set -a; . "$ROOT/.run/mariadb/env"; set +a
fi
: "${MVP_DB_PORT:?MVP_DB_PORT not set: start scripts/mariadb.sh or run scripts/test.sh}"
export MVP_DB_HOST="${MVP_DB_HOST:-127.0.0.1}"
export MVP_BUILD_DIR="${MVP_BUILD_DIR:-$ROOT/build}"
export MVP_PROXY_BIN="${MVP_PROXY_BIN:-$MVP_BUILD_DIR/mvproxy}"
BIN="$MVP_BUILD_DIR/cases"
[ -x "$BIN" ] || { echo "t_cases: $BIN not built" >&2; exit 1; }
"$BIN" --self-test
exec "$BIN" --out "$MVP_BUILD_DIR/cases-results.json" "$ROOT/tests/cases"
