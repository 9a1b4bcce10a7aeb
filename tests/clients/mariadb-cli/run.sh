#!/usr/bin/env bash
# The `mariadb` command-line client in the real-client matrix
# (tests/clients/README.md). Prepared statements are SQL PREPARE/EXECUTE
# (the CLI has no binary protocol); a multi-statement packet is sent with
# DELIMITER; it has no COM_CHANGE_USER command.
set -euo pipefail
cli() { mariadb --no-defaults -h"$MVC_HOST" -P"$MVC_PORT" -u"$MVC_USER" ${MVC_PASS:+-p"$MVC_PASS"} \
        --max-allowed-packet=64M -N -B "$MVC_DB" "$@"; }
run() { # run SQL: rows, or EXC with the error
    local out
    if out=$(cli -e "$1" 2>&1); then [ -z "$out" ] || printf '%s\n' "$out"
    else echo "EXC $out"; echo "$out" >&2; fi
}
echo "@@ connect"
run "SELECT 1+1, DATABASE()"
echo "@@ plain"
run "SELECT id, name, region, amount, created FROM items WHERE id <= 40 ORDER BY id"
echo "@@ prepared"
run "PREPARE s FROM 'SELECT id, name, amount FROM items WHERE id BETWEEN ? AND ? ORDER BY id';
     SET @a = 10, @b = 30; EXECUTE s USING @a, @b"
echo "@@ rewrite"
run "SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items GROUP BY region ORDER BY region"
echo "@@ rewrite_prep"
run "PREPARE s FROM 'SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items WHERE category = ? GROUP BY category';
     SET @c = 'books'; EXECUTE s USING @c"
echo "@@ error"
# --force: go on after the error, on the same connection
out=$(cli --force -e "SELECT * FROM no_such_table; SELECT 'still'" 2>&1 || true)
printf '%s\n' "$out" | sed -nE 's/^ERROR ([0-9]+) .*/errno \1/p; /^still$/p'
echo "@@ multi"
printf 'DELIMITER //\nSELECT 1 AS a; SELECT %s AS b, 3 AS c//\n' "'two'" | cli 2>&1 || echo "EXC multi"
echo "@@ big"
f="$MVC_WORK/cli-big.$MVC_ID"
# "0000000 0000001 ... ": 20 MiB, every 8 bytes a different number
python3 -c 'import sys; sys.stdout.write("".join("%07d " % k for k in range(20 * 1024 * 1024 // 8)))' >"$f.v"
{ printf "INSERT INTO blobs (id, v) VALUES (%s, '" "$MVC_ID"; cat "$f.v"; printf "');\n"; } >"$f.sql"
if cli <"$f.sql" 2>"$f.err"; then
    # --raw: the value as stored, no escaping; the CLI adds one newline
    cli --raw -e "SELECT v FROM blobs WHERE id = $MVC_ID" | head -c -1 >"$f.out"
    echo "len $(stat -c %s "$f.out") equal $(cmp -s "$f.v" "$f.out" && echo yes || echo no)"
else
    echo "EXC $(head -c 300 "$f.err")"; cat "$f.err" >&2
fi
run "DELETE FROM blobs WHERE id = $MVC_ID"
rm -f "$f".*
echo "@@ txn"
run "BEGIN; INSERT INTO txn_t (id) VALUES ($MVC_ID); SELECT COUNT(*) FROM txn_t WHERE id = $MVC_ID;
     ROLLBACK; SELECT COUNT(*) FROM txn_t WHERE id = $MVC_ID"
echo "@@ tls"
if [ -z "$MVC_TLS_PORT" ]; then echo NA
else
    # --ssl asks for TLS (no certificate check: the proxy's cert is self-signed),
    # but the 10.11 client goes on in clear text when the server offers no TLS:
    # `\s` (status) shows what the client itself negotiated.
    if out=$(mariadb --no-defaults -h"$MVC_HOST" -P"$MVC_TLS_PORT" -u"$MVC_USER" ${MVC_PASS:+-p"$MVC_PASS"} \
             --ssl --ssl-verify-server-cert=0 -N -B -e "SELECT 'tls'; \\s" 2>&1); then
        printf '%s\n' "$out" | grep -q 'Cipher in use' || echo "EXC connected without TLS"
        printf '%s\n' "$out" | head -1
    else echo "EXC $out"; echo "$out" >&2; fi
fi
echo "@@ change_user"
echo NA
echo "@@ reset"
echo NA
echo "@@ tool"
echo NA
