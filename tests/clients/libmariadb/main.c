/*
 * libmariadb client of the real-client matrix (tests/clients/README.md):
 * text queries, server-side prepared statements (mysql_stmt_*), multi
 * statements, mysql_change_user, mysql_reset_connection, TLS required.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

static const char *host, *user, *pass, *db;
static unsigned port;
static long run_id;

static const char *
env(const char *name)
{
    const char *v = getenv(name);
    return v ? v : "";
}

static MYSQL *
connect_to(unsigned p, unsigned long flags, int tls)
{
    MYSQL *m = mysql_init(NULL);
    if (tls) {
        my_bool on = 1, off = 0;
        mysql_ssl_set(m, NULL, NULL, NULL, NULL, NULL);
        mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
        mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &off);
    }
    if (!mysql_real_connect(m, host, user, pass, db, p, NULL, flags)) {
        printf("EXC connect %u %s\n", mysql_errno(m), mysql_error(m));
        fprintf(stderr, "connect: %u %s\n", mysql_errno(m), mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

static void
exc(MYSQL *m, const char *what)
{
    printf("EXC %s: %u %s\n", what, mysql_errno(m), mysql_error(m));
    fprintf(stderr, "%s: %u %s\n", what, mysql_errno(m), mysql_error(m));
}

static void
print_result(MYSQL_RES *r)
{
    MYSQL_ROW row;
    unsigned n = mysql_num_fields(r), i;
    while ((row = mysql_fetch_row(r)) != NULL) {
        for (i = 0; i < n; i++) {
            printf("%s%s", i ? "\t" : "", row[i] ? row[i] : "\\N");
        }
        printf("\n");
    }
}

/* Run SQL and print every row of every result set ("--" between sets). */
static int
query(MYSQL *m, const char *sql)
{
    int first = 1, st;
    if (mysql_query(m, sql) != 0) {
        exc(m, sql);
        return -1;
    }
    do {
        MYSQL_RES *r = mysql_store_result(m);
        if (r) {
            if (!first) {
                printf("--\n");
            }
            first = 0;
            print_result(r);
            mysql_free_result(r);
        } else if (mysql_field_count(m) != 0) {
            exc(m, "store_result");
            return -1;
        }
        st = mysql_next_result(m);
        if (st > 0) {
            exc(m, "next_result");
            return -1;
        }
    } while (st == 0);
    return 0;
}

/* A server-side prepared statement; PARAMS are strings (NULL-terminated list). */
static int
prepared(MYSQL *m, const char *sql, const char *const *params)
{
    MYSQL_STMT *s = mysql_stmt_init(m);
    MYSQL_BIND in[4], out[8];
    unsigned long inlen[4], outlen[8];
    my_bool isnull[8];
    char bufs[8][256];
    unsigned np = 0, nf, i;
    MYSQL_RES *meta;
    int rc;

    if (mysql_stmt_prepare(s, sql, strlen(sql)) != 0) {
        printf("EXC prepare: %s\n", mysql_stmt_error(s));
        fprintf(stderr, "prepare: %s\n", mysql_stmt_error(s));
        mysql_stmt_close(s);
        return -1;
    }
    memset(in, 0, sizeof(in));
    for (np = 0; params[np]; np++) {
        inlen[np] = strlen(params[np]);
        in[np].buffer_type = MYSQL_TYPE_STRING;
        in[np].buffer = (void *)params[np];
        in[np].buffer_length = inlen[np];
        in[np].length = &inlen[np];
    }
    if (mysql_stmt_bind_param(s, in) != 0 || mysql_stmt_execute(s) != 0) {
        printf("EXC execute: %s\n", mysql_stmt_error(s));
        fprintf(stderr, "execute: %s\n", mysql_stmt_error(s));
        mysql_stmt_close(s);
        return -1;
    }
    meta = mysql_stmt_result_metadata(s);
    nf = meta ? mysql_num_fields(meta) : 0;
    memset(out, 0, sizeof(out));
    for (i = 0; i < nf && i < 8; i++) {
        out[i].buffer_type = MYSQL_TYPE_STRING;
        out[i].buffer = bufs[i];
        out[i].buffer_length = sizeof(bufs[i]);
        out[i].length = &outlen[i];
        out[i].is_null = &isnull[i];
    }
    if (nf) {
        mysql_stmt_bind_result(s, out);
        while ((rc = mysql_stmt_fetch(s)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
            for (i = 0; i < nf; i++) {
                printf("%s%.*s", i ? "\t" : "", isnull[i] ? 2 : (int)outlen[i],
                       isnull[i] ? "\\N" : bufs[i]);
            }
            printf("\n");
        }
        mysql_free_result(meta);
    }
    mysql_stmt_close(s);
    return 0;
}

static void
check_big(MYSQL *m)
{
    size_t n = 20u * 1024 * 1024, i;
    char *v = malloc(n + 1), sql[200];
    MYSQL_STMT *s = mysql_stmt_init(m);
    MYSQL_BIND b[2];
    unsigned long vlen = n;
    int ok;

    /* "0000000 0000001 ... ": 20 MiB, every 8 bytes a different number */
    for (i = 0; i < n / 8; i++) {
        snprintf(v + i * 8, 9, "%07zu ", i);
    }
    v[n] = 0;
    memset(b, 0, sizeof(b));
    b[0].buffer_type = MYSQL_TYPE_LONG;
    b[0].buffer = &run_id;
    b[1].buffer_type = MYSQL_TYPE_LONG_BLOB;
    b[1].buffer = v;
    b[1].buffer_length = n;
    b[1].length = &vlen;
    if (mysql_stmt_prepare(s, "INSERT INTO blobs (id, v) VALUES (?, ?)", 39) != 0 ||
        mysql_stmt_bind_param(s, b) != 0 || mysql_stmt_execute(s) != 0) {
        printf("EXC insert: %s\n", mysql_stmt_error(s));
        fprintf(stderr, "big insert: %s\n", mysql_stmt_error(s));
        mysql_stmt_close(s);
        free(v);
        return;
    }
    mysql_stmt_close(s);
    snprintf(sql, sizeof(sql), "SELECT v FROM blobs WHERE id = %ld", run_id);
    if (mysql_query(m, sql) != 0) {
        exc(m, "big select");
    } else {
        MYSQL_RES *r = mysql_store_result(m);
        MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
        unsigned long *len = row ? mysql_fetch_lengths(r) : NULL;
        ok = row && row[0] && len[0] == n && memcmp(row[0], v, n) == 0;
        printf("len %lu equal %s\n", len ? len[0] : 0, ok ? "yes" : "no");
        if (r) {
            mysql_free_result(r);
        }
    }
    snprintf(sql, sizeof(sql), "DELETE FROM blobs WHERE id = %ld", run_id);
    if (mysql_query(m, sql) != 0) {
        exc(m, "big delete");
    }
    free(v);
}

int
main(void)
{
    MYSQL *m, *t;
    char sql[200];
    const char *range[] = {"10", "30", NULL}, *books[] = {"books", NULL};
    const char *tls_port = env("MVC_TLS_PORT");

    host = env("MVC_HOST");
    port = (unsigned)atoi(env("MVC_PORT"));
    user = env("MVC_USER");
    pass = env("MVC_PASS");
    db = env("MVC_DB");
    run_id = atol(env("MVC_ID"));

    printf("@@ connect\n");
    m = connect_to(port, CLIENT_MULTI_STATEMENTS, 0);
    if (!m) {
        return 1;
    }
    query(m, "SELECT 1+1, DATABASE()");
    printf("@@ plain\n");
    query(m, "SELECT id, name, region, amount, created FROM items WHERE id <= 40 ORDER BY id");
    printf("@@ prepared\n");
    prepared(m, "SELECT id, name, amount FROM items WHERE id BETWEEN ? AND ? ORDER BY id", range);
    printf("@@ rewrite\n");
    query(m, "SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items GROUP BY region "
             "ORDER BY region");
    printf("@@ rewrite_prep\n");
    prepared(m, "SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items WHERE category = ? "
                "GROUP BY category", books);
    printf("@@ error\n");
    if (mysql_query(m, "SELECT * FROM no_such_table") == 0) {
        printf("no error\n");
        mysql_free_result(mysql_store_result(m));
    } else {
        printf("errno %u\n", mysql_errno(m));
    }
    query(m, "SELECT 'still'");
    printf("@@ multi\n");
    query(m, "SELECT 1 AS a; SELECT 'two' AS b, 3 AS c");
    printf("@@ big\n");
    check_big(m);
    printf("@@ txn\n");
    query(m, "BEGIN");
    snprintf(sql, sizeof(sql), "INSERT INTO txn_t (id) VALUES (%ld)", run_id);
    query(m, sql);
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM txn_t WHERE id = %ld", run_id);
    query(m, sql);
    query(m, "ROLLBACK");
    query(m, sql);
    printf("@@ tls\n");
    if (!*tls_port) {
        printf("NA\n");
    } else if ((t = connect_to((unsigned)atoi(tls_port), 0, 1)) != NULL) {
        if (mysql_get_ssl_cipher(t) == NULL) {
            printf("EXC connected without TLS\n");
        }
        query(t, "SELECT 'tls'");
        mysql_close(t);
    }
    printf("@@ change_user\n");
    if (mysql_change_user(m, "app", "app_pw", db) != 0) {
        exc(m, "change_user");
    } else {
        query(m, "SELECT CURRENT_USER(), DATABASE()");
        if (mysql_change_user(m, user, pass, db) != 0) {
            exc(m, "change_user back");
        }
        query(m, "SELECT CURRENT_USER()");
    }
    printf("@@ reset\n");
    query(m, "SET @v = 42");
    query(m, "SELECT @v");
    if (mysql_reset_connection(m) != 0) {
        exc(m, "reset_connection");
    }
    query(m, "SELECT @v IS NULL, DATABASE()");
    printf("@@ tool\nNA\n");
    mysql_close(m);
    return 0;
}
