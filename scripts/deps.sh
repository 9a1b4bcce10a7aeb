#!/usr/bin/env bash
# Installs every Debian package mvproxy needs to build, test and run its demo.
# Idempotent: packages already present are skipped. Needs root (apt-get).
set -euo pipefail
PKGS=(build-essential cmake pkg-config
      libpg-query-dev libprotobuf-c-dev libmariadb-dev uthash-dev libevent-dev
      libcmocka-dev libinih-dev libjansson-dev libssl-dev openssl
      python3-pymysql   # itest_tls: a second client library over TLS
      mariadb-server mariadb-client valgrind
      clang libclang-rt-14-dev)   # fuzz/ (libFuzzer runtime)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#PKGS[@]} packages present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
# policy-rc.d keeps the package from starting the system MariaDB service:
# mvproxy only ever uses a private instance.
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
