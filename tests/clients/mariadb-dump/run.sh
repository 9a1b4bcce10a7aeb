#!/usr/bin/env bash
# mariadb-dump in the real-client matrix (tests/clients/README.md): the
# whole fixture schema (tables, the views' storage tables, data), without
# the dump date; proxy and direct dumps must be equal.
set -euo pipefail
for k in connect plain prepared rewrite rewrite_prep error multi big txn tls change_user reset; do
    printf '@@ %s\nNA\n' "$k"
done
echo "@@ tool"
out="$MVC_WORK/dump.$MVC_ID.sql"
if mariadb-dump --no-defaults -h"$MVC_HOST" -P"$MVC_PORT" -u"$MVC_USER" ${MVC_PASS:+-p"$MVC_PASS"} \
        --skip-dump-date --single-transaction --routines --events --triggers \
        --databases "$MVC_DB" >"$out" 2>"$out.err"; then
    grep -v '^-- Dump completed' "$out"
else
    echo "EXC $(head -c 300 "$out.err")"; cat "$out.err" >&2
fi
rm -f "$out" "$out.err"
