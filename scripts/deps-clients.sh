#!/usr/bin/env bash
# Installs the client programs of the real-client matrix
# (tests/integration/t_clients.sh, tests/clients/README.md): Debian packages
# (apt-get, no recommends) and the node driver mysql2 (npm, into
# .run/clients-node, never committed). Idempotent: what is present is
# skipped. Needs root (apt-get). scripts/test.sh calls it; scripts/demo.sh
# does not.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKGS=(mariadb-client libmariadb-dev pkg-config build-essential
      python3-pymysql python3-mysqldb python3-sqlalchemy
      libmariadb-java default-jdk-headless
      php-cli php-mysql
      libdbd-mariadb-perl
      golang golang-github-go-sql-driver-mysql-dev
      sysbench)
# node and npm: Debian's nodejs + npm, unless a node with npm is installed
# already (the Debian npm conflicts with other nodejs builds).
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps-clients: all ${#PKGS[@]} packages present"
else
    echo "deps-clients: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
NODE_DIR="${MVP_CLIENTS_NODE_DIR:-$ROOT/.run/clients-node}"
if [ ! -f "$NODE_DIR/node_modules/mysql2/package.json" ]; then
    echo "deps-clients: npm install mysql2 into $NODE_DIR"
    mkdir -p "$NODE_DIR"
    [ -f "$NODE_DIR/package.json" ] || echo '{"name":"mvproxy-clients","private":true}' >"$NODE_DIR/package.json"
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error mysql2@3)
else
    echo "deps-clients: mysql2 present in $NODE_DIR"
fi
