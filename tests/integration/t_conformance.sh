#!/usr/bin/env bash
# Conformance corpus (../shared/conformance) through a real mvproxy: runs the
# `conformance` binary from $MVP_BUILD_DIR (see tests/conformance/README.md).
# Fails only on wrong rows or a proxy crash; the score is printed.
#
# Env (set by scripts/test.sh): MVP_DB_HOST MVP_DB_PORT MVP_PROXY_BIN
# MVP_BUILD_DIR MVP_SHARED_DIR. Optional: MVP_CONF_STRIDE (default 1: all
# 1,027 cases), MVP_CONF_JOBS (default 2), MVP_CONF_OUT (results JSON).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -z "${MVP_DB_PORT:-}" ] && [ -f "$ROOT/.run/mariadb/env" ]; then
    set -a; . "$ROOT/.run/mariadb/env"; set +a
fi
: "${MVP_DB_PORT:?MVP_DB_PORT not set: start scripts/mariadb.sh or run scripts/test.sh}"
export MVP_DB_HOST="${MVP_DB_HOST:-127.0.0.1}"
export MVP_BUILD_DIR="${MVP_BUILD_DIR:-$ROOT/build}"
export MVP_PROXY_BIN="${MVP_PROXY_BIN:-$MVP_BUILD_DIR/mvproxy}"
export MVP_SHARED_DIR="${MVP_SHARED_DIR:-$ROOT/../shared}"
BIN="$MVP_BUILD_DIR/conformance"
[ -x "$BIN" ] || { echo "t_conformance: $BIN not built" >&2; exit 1; }
OUT="${MVP_CONF_OUT:-$MVP_BUILD_DIR/conformance-results.json}"
STRIDE="${MVP_CONF_STRIDE:-1}"
exec "$BIN" --jobs "${MVP_CONF_JOBS:-2}" --stride "$STRIDE" --out "$OUT"
