#!/usr/bin/env bash
# The real-client matrix (issue 11; tests/clients/README.md): every client
# program under tests/clients runs the same checks through one mvproxy and
# directly against the private MariaDB; the outputs must be equal check by
# check, a rewritten query must move its view's RewriteHits, and TLS is
# checked against a second proxy started with --tls-mode required.
# Prints the matrix (client x check: ok / FAIL / n/a / gap) and writes it to
# $MVP_BUILD_DIR/clients-matrix.txt. Fails on any FAIL, and on a cell listed
# in tests/clients/known_gaps that passes (remove it from the list).
#
# Env (set by scripts/test.sh): MVP_DB_HOST MVP_DB_PORT MVP_PROXY_BIN
# MVP_BUILD_DIR MVP_RUN_DIR. MVP_CLIENTS (space-separated names) runs only
# those clients. Clients are installed by scripts/deps-clients.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -z "${MVP_DB_PORT:-}" ] && [ -f "$ROOT/.run/mariadb/env" ]; then
    set -a; . "$ROOT/.run/mariadb/env"; set +a
fi
: "${MVP_DB_PORT:?MVP_DB_PORT not set: start scripts/mariadb.sh or run scripts/test.sh}"
DB_HOST="${MVP_DB_HOST:-127.0.0.1}"
BUILD="${MVP_BUILD_DIR:-$ROOT/build}"
PROXY_BIN="${MVP_PROXY_BIN:-$BUILD/mvproxy}"
[ -x "$PROXY_BIN" ] || { echo "t_clients: $PROXY_BIN not built" >&2; exit 1; }
WORK="${MVP_RUN_DIR:-$ROOT/.run/mariadb}/clients"
CL="$ROOT/tests/clients"
GAPS="$CL/known_gaps"
NODE_DIR="${MVP_CLIENTS_NODE_DIR:-$ROOT/.run/clients-node}"
DB=mvp_clients
META=mvp_clients_meta
T0=$(date +%s)
rm -rf "$WORK"
mkdir -p "$WORK/out" "$WORK/bin"

CHECKS=(connect plain prepared rewrite rewrite_prep error multi big txn tls change_user reset tool)
# client name -> command line (run from $WORK with the MVC_* environment)
declare -A CMD=(
    [mariadb-cli]="bash $CL/mariadb-cli/run.sh"
    [mariadb-dump]="bash $CL/mariadb-dump/run.sh"
    [libmariadb]="$WORK/bin/libmariadb_client"
    [pymysql]="/usr/bin/python3 $CL/python/pymysql_client.py"
    [mysqldb]="/usr/bin/python3 $CL/python/mysqldb_client.py"
    [sqlalchemy]="/usr/bin/python3 $CL/python/sqlalchemy_client.py"
    [connj-server]="env MVC_MODE=server java -cp /usr/share/java/mariadb-java-client.jar $CL/connector-j/Main.java"
    [connj-client]="env MVC_MODE=client java -cp /usr/share/java/mariadb-java-client.jar $CL/connector-j/Main.java"
    [mysql2]="env NODE_PATH=$NODE_DIR/node_modules node $CL/mysql2/main.js"
    [mysqli]="php $CL/php/mysqli.php"
    [pdo-native]="env MVC_MODE=native php $CL/php/pdo.php"
    [pdo-emulate]="env MVC_MODE=emulate php $CL/php/pdo.php"
    [perl]="env MVC_MODE=client perl $CL/perl/main.pl"
    [perl-server]="env MVC_MODE=server perl $CL/perl/main.pl"
    [go]="env MVC_MODE=server $WORK/bin/go_client"
    [go-interp]="env MVC_MODE=interpolate $WORK/bin/go_client"
    [sysbench]="bash $CL/sysbench/run.sh"
)
ORDER=(mariadb-cli mariadb-dump libmariadb pymysql mysqldb sqlalchemy connj-server connj-client
       mysql2 mysqli pdo-native pdo-emulate perl perl-server go go-interp sysbench)
if [ -n "${MVP_CLIENTS:-}" ]; then read -r -a ORDER <<<"$MVP_CLIENTS"; fi

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_proxy PORT LOG [extra args...]: starts mvproxy, waits until it
# accepts (20 s); returns 1 when it exited.
start_proxy() {
    local port="$1" log="$2" i pid; shift 2
    "$PROXY_BIN" --listen "127.0.0.1:$port" --backend "$DB_HOST:$MVP_DB_PORT" \
        --service-user mvproxy --service-password mvproxy --meta-schema "$META" \
        --threads 2 "$@" >"$log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for i in $(seq 1 200); do
        accepts "$port" && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

sql() { # sql PORT SQL... : mariadb CLI, batch output with a header line
    local port="$1"; shift
    mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot -B "$DB" -e "$*"
}

# A clean slate before the proxy creates its catalog schema.
mariadb --no-defaults -h127.0.0.1 -P"$MVP_DB_PORT" -uroot \
    -e "DROP DATABASE IF EXISTS $DB; DROP DATABASE IF EXISTS $META; DROP DATABASE IF EXISTS sbtest"
PPORT=$(free_port)
start_proxy "$PPORT" "$WORK/proxy.log" || {
    echo "t_clients: mvproxy did not start" >&2; tail -20 "$WORK/proxy.log" >&2; exit 1; }
# The TLS proxy: until mvproxy has --tls-mode it does not start; the tls
# cells then run against the plain proxy (which refuses TLS) and fail.
TPORT=$(free_port)
if start_proxy "$TPORT" "$WORK/proxy-tls.log" --tls-mode required; then
    TLS_NOTE="second proxy with --tls-mode required on port $TPORT"
else
    TPORT="$PPORT"
    TLS_NOTE="mvproxy --tls-mode required did not start ($(head -c 200 "$WORK/proxy-tls.log" | tr '\n' ' ')); tls checked against the plain proxy"
fi

# ---- fixture, created through the proxy -------------------------------------
mariadb --no-defaults -h127.0.0.1 -P"$PPORT" -uroot <<SQL
CREATE DATABASE $DB;
CREATE DATABASE sbtest;
USE $DB;
CREATE TABLE items (
  id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, region VARCHAR(10) NULL,
  category VARCHAR(10) NOT NULL, qty INT NOT NULL, amount DECIMAL(10,2) NOT NULL,
  created DATETIME NOT NULL, KEY (category));
INSERT INTO items
SELECT seq, CONCAT('item-', seq), ELT(1 + seq % 5, 'north', 'south', 'east', 'west', NULL),
       ELT(1 + seq % 3, 'books', 'games', 'tools'), 1 + seq % 9, (seq % 50) + 0.25,
       TIMESTAMP('2024-01-01') + INTERVAL seq HOUR
FROM seq_1_to_300;
CREATE TABLE blobs (id INT PRIMARY KEY, v LONGTEXT NOT NULL);
CREATE TABLE txn_t (id INT PRIMARY KEY);
CREATE MATERIALIZED VIEW mv_region BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
  AS SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items GROUP BY region;
CREATE MATERIALIZED VIEW mv_cat BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
  AS SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items GROUP BY category;
GRANT SELECT ON $DB.* TO 'app'@'127.0.0.1';
GRANT SELECT ON $DB.* TO 'app'@'%';
SQL
# The fixture is right only if both probe queries are rewritten.
for q in "SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items GROUP BY region ORDER BY region" \
         "SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items WHERE category = 'books' GROUP BY category"; do
    sql "$PPORT" "EXPLAIN REWRITE $q" | grep -q CHOSEN || {
        echo "t_clients: fixture: no view chosen for: $q" >&2; sql "$PPORT" "EXPLAIN REWRITE $q" >&2; exit 1; }
done

# RewriteHits of a view (through the proxy).
hits() {
    sql "$PPORT" "SHOW MATERIALIZED VIEWS LIKE '$1'" | awk -F'\t' '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == "RewriteHits") c = i; next }
        { print $c }'
}

# ---- client programs that need a build step --------------------------------
build_log="$WORK/build.log"
: >"$build_log"
want() { local c; for c in "${ORDER[@]}"; do [[ "$c" == $1 ]] && return 0; done; return 1; }
if want libmariadb; then
    # shellcheck disable=SC2046
    cc -O1 -Wall -o "$WORK/bin/libmariadb_client" "$CL/libmariadb/main.c" \
        $(pkg-config --cflags --libs libmariadb) >>"$build_log" 2>&1 || true
fi
if want 'go*'; then
    (cd "$CL/go" && GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="$WORK/gocache" \
        go build -o "$WORK/bin/go_client" main.go) >>"$build_log" 2>&1 || true
fi
echo "t_clients: proxy on $PPORT, $TLS_NOTE; setup $(( $(date +%s) - T0 ))s"

# ---- run ---------------------------------------------------------------------
block() { # block FILE CHECK: the lines of that check's block
    awk -v c="$2" '/^@@ / { cur = $2; next } cur == c' "$1"
}
has_block() { grep -qx "@@ $2" "$1"; }
gap_reason() { # gap_reason CLIENT CHECK: the known_gaps reason, or nothing
    [ -f "$GAPS" ] || return 0
    awk -v a="$1" -v b="$2" '$1 == a && $2 == b { $1 = ""; $2 = ""; sub(/^  /, ""); print; exit }' "$GAPS"
}

declare -A CELL
FAILS=0
STALE=0
REPORT="$WORK/report.txt"
: >"$REPORT"
id=1000
for c in "${ORDER[@]}"; do
    [ -n "${CMD[$c]:-}" ] || { echo "t_clients: unknown client $c" >&2; exit 1; }
    t1=$(date +%s)
    declare -A H0 H1
    H0[mv_region]=$(hits mv_region); H0[mv_cat]=$(hits mv_cat)
    for target in proxy direct; do
        id=$((id + 1))
        if [ "$target" = proxy ]; then port=$PPORT; tls=$TPORT; else port=$MVP_DB_PORT; tls=""; fi
        set +e
        (cd "$WORK" && MVC_HOST=127.0.0.1 MVC_PORT=$port MVC_USER=root MVC_PASS="" MVC_DB=$DB \
            MVC_TLS_PORT="$tls" MVC_ID=$id MVC_WORK="$WORK" timeout 240 ${CMD[$c]}) \
            </dev/null >"$WORK/out/$c.$target.out" 2>"$WORK/out/$c.$target.err"
        echo $? >"$WORK/out/$c.$target.rc"
        set -e
        [ "$target" = proxy ] && { H1[mv_region]=$(hits mv_region); H1[mv_cat]=$(hits mv_cat); }
    done
    P="$WORK/out/$c.proxy.out"
    D="$WORK/out/$c.direct.out"
    for k in "${CHECKS[@]}"; do
        why=""
        if ! has_block "$P" "$k"; then
            why="no output for this check through the proxy (exit $(cat "$WORK/out/$c.proxy.rc"))"
        elif [ "$(block "$P" "$k")" = NA ]; then
            CELL[$c.$k]="n/a"; continue
        elif block "$P" "$k" | grep -q '^EXC '; then
            why="through the proxy: $(block "$P" "$k" | grep '^EXC ' | head -3)"
        elif [ "$k" = tls ]; then
            [ "$(block "$P" "$k")" = tls ] || why="expected 'tls', got: $(block "$P" "$k" | head -3)"
        elif ! has_block "$D" "$k" || block "$D" "$k" | grep -q '^EXC '; then
            why="the direct run failed too (exit $(cat "$WORK/out/$c.direct.rc")): $(block "$D" "$k" | head -3)"
        elif [ "$(block "$P" "$k")" != "$(block "$D" "$k")" ]; then
            why="proxy and direct differ: $(diff <(block "$D" "$k") <(block "$P" "$k") | head -8 | cut -c1-200)"
        elif [ "$k" = rewrite ] && [ "${H1[mv_region]}" -le "${H0[mv_region]}" ]; then
            why="rows equal but mv_region's RewriteHits did not move (${H0[mv_region]})"
        elif [ "$k" = rewrite_prep ] && [ "${H1[mv_cat]}" -le "${H0[mv_cat]}" ]; then
            why="rows equal but mv_cat's RewriteHits did not move (${H0[mv_cat]})"
        fi
        gap="$(gap_reason "$c" "$k")"
        if [ -z "$why" ]; then
            CELL[$c.$k]="ok"
            if [ -n "$gap" ]; then
                CELL[$c.$k]="ok!"; STALE=$((STALE + 1))
                echo "t_clients: $c $k passes: remove it from known_gaps" | tee -a "$REPORT" >&2
            fi
        elif [ -n "$gap" ]; then
            CELL[$c.$k]="gap"
        else
            CELL[$c.$k]="FAIL"; FAILS=$((FAILS + 1))
            {
                echo "---- $c $k: FAIL: $why"
                echo "     stderr through the proxy ($WORK/out/$c.proxy.err):"
                tail -n 15 "$WORK/out/$c.proxy.err" | sed 's/^/     | /'
            } | tee -a "$REPORT" >&2
        fi
    done
    unset H0 H1
    echo "t_clients: $c done in $(( $(date +%s) - t1 ))s"
done

# ---- the matrix ---------------------------------------------------------------
MATRIX="$BUILD/clients-matrix.txt"
{
    printf '%-13s' client
    for k in "${CHECKS[@]}"; do printf ' %-*s' $(( ${#k} > 4 ? ${#k} : 4 )) "$k"; done
    printf '\n'
    for c in "${ORDER[@]}"; do
        printf '%-13s' "$c"
        for k in "${CHECKS[@]}"; do printf ' %-*s' $(( ${#k} > 4 ? ${#k} : 4 )) "${CELL[$c.$k]}"; done
        printf '\n'
    done
} | tee "$MATRIX"
echo "(ok: same as direct; n/a: the client cannot do it; gap: known not to work yet, tests/clients/known_gaps; ok!: listed as a gap but passes)"
echo "t_clients: matrix in $MATRIX, outputs in $WORK/out, $(( $(date +%s) - T0 ))s"
if [ "$FAILS" -gt 0 ] || [ "$STALE" -gt 0 ]; then
    echo "t_clients: $FAILS failed cells, $STALE known gaps that pass (remove them from known_gaps)" >&2
    exit 1
fi
echo "t_clients: OK"
