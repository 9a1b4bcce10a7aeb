#!/usr/bin/env bash
# Full conformance run (all 1,027 cases) with a summary and results JSON.
#   tests/conformance/run_all.sh [extra conformance flags, e.g. --verbose]
# Uses $MVP_BUILD_DIR (default build-conf), starts the private MariaDB of
# $MVP_RUN_DIR (default /tmp/conf-mdb) if MVP_DB_PORT is not set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -z "${MVP_DB_PORT:-}" ]; then
    export MVP_RUN_DIR="${MVP_RUN_DIR:-/tmp/conf-mdb}"
    "$ROOT/scripts/mariadb.sh" start >/dev/null
    set -a; . "$MVP_RUN_DIR/env"; set +a
fi
export MVP_BUILD_DIR="${MVP_BUILD_DIR:-$ROOT/build-conf}"
export MVP_PROXY_BIN="${MVP_PROXY_BIN:-$MVP_BUILD_DIR/mvproxy}"
export MVP_SHARED_DIR="${MVP_SHARED_DIR:-$ROOT/../shared}"
exec "$MVP_BUILD_DIR/conformance" --jobs "${MVP_CONF_JOBS:-2}" \
    --out "${MVP_CONF_OUT:-$MVP_BUILD_DIR/conformance-results.json}" "$@"
