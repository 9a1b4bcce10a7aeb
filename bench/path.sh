#!/usr/bin/env bash
# bench/path.sh - runs bench/path_bench (rewritten aggregate against direct,
# validation cache hit against miss, TLS relay and handshakes) with a proxy
# of its own:
#
#   bench/path.sh [path_bench options: --rows R --n N --points P --conns C
#                  --repeat R ...]
#
# Against the MariaDB of $MVP_DB_HOST/$MVP_DB_PORT ($MVP_DB_USER, default
# root, password $MVP_DB_PASSWORD; e.g. `set -a; . RUN_DIR/env; set +a`),
# whose TLS CA is $MVP_DB_TLS_CA (part c is skipped without it). Makes a
# self-signed RSA-2048 certificate (the same kind as scripts/mariadb.sh's
# server certificate, so both handshakes do the same work), starts mvproxy
# from $MVP_BUILD_DIR (default ./build) with --tls-mode preferred and that
# certificate (service user $MVP_SERVICE_USER/$MVP_SERVICE_PASSWORD, default
# the login above; metadata schema mvp_meta_path), runs path_bench (database
# bench_path, dropped at the end) and stops the proxy, dropping
# mvp_meta_path. Exit status: path_bench's. ~1 min at the defaults.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MVP_BUILD_DIR:-$ROOT/build}"
die() { echo "bench/path.sh: $*" >&2; exit 1; }
case "${1:-}" in -h|--help) sed -n '2,/^set -e/{/^set -e/!p}' "$0"; exit 0 ;; esac
[ -n "${MVP_DB_PORT:-}" ] || die "MVP_DB_PORT is not set (source the run directory's env)"
if [ ! -x "$BUILD/mvproxy" ] || [ ! -x "$BUILD/path_bench" ]; then
    die "$BUILD/mvproxy or $BUILD/path_bench missing (build first, or set MVP_BUILD_DIR)"
fi
DB_HOST="${MVP_DB_HOST:-127.0.0.1}"
DB_USER="${MVP_DB_USER:-root}"
DB_PASS="${MVP_DB_PASSWORD:-}"
SVC_USER="${MVP_SERVICE_USER:-$DB_USER}"
SVC_PASS="${MVP_SERVICE_PASSWORD:-$DB_PASS}"
OUT="$ROOT/.run/path-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PROXY_PID=""

finish() {
    local rc=$?
    if [ -n "$PROXY_PID" ]; then
        kill -TERM "$PROXY_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PROXY_PID" 2>/dev/null || true
    fi
    MYSQL_PWD="$DB_PASS" mariadb -h "$DB_HOST" -P "$MVP_DB_PORT" -u "$DB_USER" \
        -e "DROP DATABASE IF EXISTS bench_path; DROP DATABASE IF EXISTS mvp_meta_path" \
        >/dev/null 2>&1 || true
    if [ "$rc" = 0 ]; then
        rm -rf "$OUT"
    else
        echo "bench/path.sh: failed (exit $rc); the proxy's log is $OUT/proxy.log" >&2
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TLS_ARGS=()
if [ -n "${MVP_DB_TLS_CA:-}" ] && [ -f "$MVP_DB_TLS_CA" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
        -keyout "$OUT/proxy-key.pem" -out "$OUT/proxy-cert.pem" >/dev/null 2>&1 ||
        die "openssl could not make the proxy's certificate"
    cat "$MVP_DB_TLS_CA" "$OUT/proxy-cert.pem" >"$OUT/ca-bundle.pem"
    PROXY_TLS=(--tls-mode preferred --tls-cert "$OUT/proxy-cert.pem" --tls-key "$OUT/proxy-key.pem")
    TLS_ARGS=(--tls-proxy "127.0.0.1:$PORT" --tls-ca "$OUT/ca-bundle.pem")
else
    echo "bench/path.sh: MVP_DB_TLS_CA not set: no TLS measurements" >&2
    PROXY_TLS=(--tls-mode disabled)
fi

MVPROXY_SERVICE_PASSWORD="$SVC_PASS" "$BUILD/mvproxy" --listen "127.0.0.1:$PORT" \
    --backend "$DB_HOST:$MVP_DB_PORT" --service-user "$SVC_USER" --meta-schema mvp_meta_path \
    "${PROXY_TLS[@]}" >"$OUT/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$OUT/proxy.log" 2>/dev/null && break
    kill -0 "$PROXY_PID" 2>/dev/null || die "mvproxy exited; see $OUT/proxy.log"
    sleep 0.1
done
grep -q "listening on" "$OUT/proxy.log" || die "mvproxy did not start in 10 s; see $OUT/proxy.log"

"$BUILD/path_bench" --direct "$DB_HOST:$MVP_DB_PORT" --proxy "127.0.0.1:$PORT" \
    "${TLS_ARGS[@]}" --user "$DB_USER" --password "$DB_PASS" --db bench_path "$@"
