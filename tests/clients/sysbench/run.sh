#!/usr/bin/env bash
# sysbench oltp_read_only in the real-client matrix (tests/clients/README.md):
# prepare, a short run (server-side prepared statements, 2 threads),
# cleanup; each step must succeed with no errors.
set -euo pipefail
for k in connect plain prepared rewrite rewrite_prep error multi big txn tls change_user reset; do
    printf '@@ %s\nNA\n' "$k"
done
echo "@@ tool"
sb() { sysbench oltp_read_only --db-driver=mysql --mysql-host="$MVC_HOST" --mysql-port="$MVC_PORT" \
       --mysql-user="$MVC_USER" --mysql-password="$MVC_PASS" --mysql-db=sbtest \
       --tables=2 --table-size=2000 --threads=2 --time="${MVC_SYSBENCH_SECONDS:-4}" "$@"; }
log="$MVC_WORK/sysbench.$MVC_ID"
for step in prepare run cleanup; do
    if sb "$step" >"$log.$step" 2>&1; then
        if [ "$step" = run ]; then
            # "transactions: 1234 (...)" must be > 0, "ignored errors: 0"
            tx=$(sed -nE 's/^ *transactions: *([0-9]+).*/\1/p' "$log.run")
            err=$(sed -nE 's/^ *ignored errors: *([0-9]+).*/\1/p' "$log.run")
            [ "${tx:-0}" -gt 0 ] && echo "run transactions>0" || echo "EXC no transactions"
            echo "run ignored errors ${err:-?}"
        else
            echo "$step ok"
        fi
    else
        echo "EXC $step failed"; tail -20 "$log.$step" >&2
    fi
done
