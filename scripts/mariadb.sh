#!/usr/bin/env bash
# Private MariaDB instance for mvproxy's tests, demo and benchmarks.
#
#   scripts/mariadb.sh start   installs a data directory under $MVP_RUN_DIR
#                              (default .run/mariadb), starts mariadbd on a
#                              free TCP port on 127.0.0.1 and its own socket,
#                              and writes $MVP_RUN_DIR/env with MVP_DB_PORT,
#                              MVP_DB_SOCKET, MVP_DB_HOST, MVP_DB_USER.
#   scripts/mariadb.sh stop    stops it by its pid file.
#   scripts/mariadb.sh env     prints the env file (for `eval`/`source`).
#
# TLS: a private CA and a server certificate for localhost / 127.0.0.1 are
# made once in $MVP_RUN_DIR/tls (openssl; kept across runs) and mariadbd is
# started with them, so the backend offers TLS; the env file names the CA
# (MVP_DB_TLS_CA) for tests of --backend-tls verify-ca / verify-full.
#
# connect_timeout is 30 s (the server's default is 10): a client that stalls
# in its connection phase must be dropped by the proxy's own 10 s handshake
# timer (itest_tls checks its log line), not by the backend hanging up first.
#
# It never touches the system MariaDB service. root may log in over TCP with
# no password (the instance only listens on loopback); the proxy's service
# account `mvproxy`@`%` (password `mvproxy`) and a test user `app` (password
# `app_pw`) are created.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${MVP_RUN_DIR:-$ROOT/.run/mariadb}"
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
DATA="$RUN_DIR/data"
SOCK="$RUN_DIR/mysqld.sock"
PIDF="$RUN_DIR/mysqld.pid"
ENVF="$RUN_DIR/env"

find_bin() { for b in "$@"; do command -v "$b" 2>/dev/null && return 0; for d in /usr/sbin /usr/bin; do [ -x "$d/$b" ] && { echo "$d/$b"; return 0; }; done; done; return 1; }

free_port() {
    python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# Make the CA and the server certificate under $RUN_DIR/tls unless they exist.
make_tls() {
    local d="$RUN_DIR/tls"
    [ -s "$d/ca.pem" ] && [ -s "$d/server-cert.pem" ] && [ -s "$d/server-key.pem" ] && return 0
    command -v openssl >/dev/null || { echo "mariadb: openssl not found (run scripts/deps.sh)" >&2; exit 1; }
    mkdir -p "$d"
    (
        cd "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mvproxy test CA" \
            -keyout ca-key.pem -out ca.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout server-key.pem -out server.csr
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -days 3650 -extfile server.ext -out server-cert.pem
        rm -f server.csr server.ext
    ) >"$RUN_DIR/tls.log" 2>&1 || { echo "mariadb: certificate generation failed, see $RUN_DIR/tls.log" >&2; exit 1; }
}

running() { [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; }

start() {
    if running; then echo "mariadb: already running (pid $(cat "$PIDF"))"; cat "$ENVF"; return 0; fi
    local mysqld install_db port
    mysqld="$(find_bin mariadbd mysqld)" || { echo "mariadb: mariadbd not found (run scripts/deps.sh)" >&2; exit 1; }
    install_db="$(find_bin mariadb-install-db mysql_install_db)" || { echo "mariadb: mariadb-install-db not found" >&2; exit 1; }
    if [ ! -d "$DATA/mysql" ]; then
        rm -rf "$DATA"; mkdir -p "$DATA"
        "$install_db" --no-defaults --datadir="$DATA" --user="$(id -un)" \
            --auth-root-authentication-method=normal --skip-test-db >"$RUN_DIR/install.log" 2>&1 \
            || { echo "mariadb: install-db failed, see $RUN_DIR/install.log" >&2; exit 1; }
    fi
    make_tls
    port="${MVP_DB_PORT:-$(free_port)}"
    "$mysqld" --no-defaults --datadir="$DATA" --socket="$SOCK" --pid-file="$PIDF" \
        --port="$port" --bind-address=127.0.0.1 --user="$(id -un)" \
        --log-error="$RUN_DIR/error.log" --skip-name-resolve \
        --innodb-buffer-pool-size="${MVP_DB_BUFFER_POOL:-2G}" --innodb-log-file-size=512M \
        --innodb-flush-log-at-trx-commit=2 --max-allowed-packet=64M \
        --tmp-table-size=256M --max-heap-table-size=256M \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
        --log-bin="$RUN_DIR/binlog" --binlog-format=ROW --server-id=1 \
        --ssl-ca="$RUN_DIR/tls/ca.pem" --ssl-cert="$RUN_DIR/tls/server-cert.pem" \
        --ssl-key="$RUN_DIR/tls/server-key.pem" \
        --connect-timeout=30 \
        >/dev/null 2>&1 &
    local i
    for i in $(seq 1 120); do
        if [ -S "$SOCK" ] && mariadb --no-defaults -uroot --socket="$SOCK" -e "SELECT 1" >/dev/null 2>&1; then break; fi
        sleep 0.5
    done
    mariadb --no-defaults -uroot --socket="$SOCK" -e "SELECT 1" >/dev/null 2>&1 \
        || { echo "mariadb: did not start, see $RUN_DIR/error.log" >&2; tail -20 "$RUN_DIR/error.log" >&2; exit 1; }
    mariadb --no-defaults -uroot --socket="$SOCK" <<'SQL'
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'mvproxy'@'%' IDENTIFIED BY 'mvproxy';
GRANT ALL ON *.* TO 'mvproxy'@'%' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'mvproxy'@'127.0.0.1' IDENTIFIED BY 'mvproxy';
GRANT ALL ON *.* TO 'mvproxy'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'app'@'127.0.0.1' IDENTIFIED BY 'app_pw';
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app_pw';
FLUSH PRIVILEGES;
SQL
    cat >"$ENVF" <<ENV
MVP_DB_HOST=127.0.0.1
MVP_DB_PORT=$port
MVP_DB_SOCKET=$SOCK
MVP_DB_USER=root
MVP_RUN_DIR=$RUN_DIR
MVP_DB_TLS_CA=$RUN_DIR/tls/ca.pem
ENV
    echo "mariadb: started on 127.0.0.1:$port (pid $(cat "$PIDF"), dir $RUN_DIR)"
}

stop() {
    if ! running; then echo "mariadb: not running"; return 0; fi
    local pid; pid="$(cat "$PIDF")"
    kill "$pid"
    local i
    for i in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "mariadb: stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) cat "$ENVF" ;;
    *) echo "usage: $0 {start|stop|env}" >&2; exit 2 ;;
esac
