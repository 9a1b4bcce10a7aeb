/*
 * path_bench.c - what the proxy's own paths cost or save, each measured
 * against a direct connection to MariaDB (or another proxy path) in the same
 * run, reported as ratios (never as timed assertions in tests):
 *
 *   a. a rewritten aggregate: SELECT g, SUM(amt) FROM t GROUP BY g over a
 *      table of --rows rows (default 200000) that this program creates and
 *      fills, answered by the proxy from a view grouping by g (mv_g, created
 *      through the proxy), against the same SQL direct (a scan). Ratio
 *      direct/proxy: how many times faster through the proxy. Checked once
 *      with EXPLAIN REWRITE and by mv_g's RewriteHits counter;
 *   b. the validation cache: the proxy prepares the original of a rewritten
 *      query on the client's connection before answering, and remembers a
 *      success per worker for 2 s keyed by user/db/sql_mode/text. The same
 *      rewritten text repeated (a hit) against a text that changes every
 *      time (WHERE g < K, K never repeating: a miss of that cache and of the
 *      decision cache: parse, match, validate). Per-query latency of each
 *      through the proxy, ratio miss/hit; a relayed point query (not
 *      rewritten, new text each time) as the baseline (ratio hit/point);
 *   c. TLS (with --tls-proxy): SELECT 1 and point queries over TLS to the
 *      proxy against TLS direct to MariaDB, and connect (+ TLS handshake) +
 *      close, ms per connection, plaintext and TLS, the same way. Ratios
 *      proxy/direct (1.00 = no overhead). The host name is not verified (the
 *      proxy's certificate is an ephemeral self-signed one, or one
 *      bench/path.sh makes). Give
 *      --tls-ca FILE, a bundle that verifies both certificates (path.sh
 *      concatenates the backend's CA and the proxy's self-signed one): with
 *      it libmariadb checks the chain (not the host name); without it, it
 *      loads the system trust store on every TLS connect (~20 ms of client
 *      CPU with OpenSSL 3 here), which then dominates both sides of the
 *      handshake measurement.
 *
 *   path_bench --direct HOST:PORT --proxy HOST:PORT [--tls-proxy HOST:PORT]
 *              [--tls-ca FILE] [--user U] [--password P] [--db bench_path] [--rows 200000]
 *              [--n 30] [--points 5000] [--conns 300] [--repeat 3] [--keep]
 *
 *   path_bench --proxy HOST:PORT --workload select1|point|agg|agg_new
 *              --count N [--db D] [--user U] [--password P]
 *   path_bench --direct HOST:PORT --proxy HOST:PORT --workload setup|cleanup
 *              [--db D] [--rows R]
 *
 * The first form creates database D (it must not be a database you use:
 * it is dropped at the end unless --keep; --rows 0 reuses a kept one), the
 * table t and, through the proxy, the view D.mv_g. Each measurement runs R
 * times per side, alternating, and keeps the best (least disturbed) run.
 * Exits 1 when a measurement failed or the proxy did not use the view, 2 on
 * bad usage or setup.
 *
 * The second form only runs N queries of one kind on one connection to the
 * proxy (over the data of a kept first run or of the third form) and prints
 * nothing on success: bench/callgrind.sh drives it to count instructions per
 * query. The third form only creates (setup: database, t, mv_g) or drops
 * (cleanup) what the first form uses.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

#include "../examples/mvp_client.h"

struct opts {
    struct endpoint direct;     /* MariaDB */
    struct endpoint proxy;      /* mvproxy */
    struct endpoint tls_proxy;  /* mvproxy with TLS on (port 0: skip part c) */
    const char *tls_ca;         /* CA file handed to TLS connects (NULL: none) */
    const char *user;           /* login for all */
    const char *password;       /* its password */
    const char *db;             /* database this program creates and drops */
    long rows;                  /* rows of t (0: reuse a kept t and view) */
    long n;                     /* aggregate queries per measurement */
    long points;                /* small queries per measurement */
    long conns;                 /* connections per handshake measurement */
    int repeat;                 /* runs per side; the best counts */
    bool keep;                  /* leave the database and view in place */
    const char *workload;       /* second form: the kind to run (NULL: first form) */
    long count;                 /* second form: how many */
};

/* The query kinds. */
enum kind {
    K_SELECT1,                  /* SELECT 1 */
    K_POINT,                    /* SELECT ... FROM t WHERE id = <new key> */
    K_AGG,                      /* SELECT g, SUM(amt) FROM t GROUP BY g (fixed text) */
    K_AGG_NEW,                  /* ... WHERE g < <new K> GROUP BY g (new text each time) */
};

static long g_uniq = 1000;      /* next K of K_AGG_NEW: never repeats in a process */
static long g_point;            /* queries of K_POINT so far: the next key follows */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Connect to EP into DB (NULL: none), with TLS when TLS (not verified).
 * NULL with ERR filled on failure. Caller closes. */
static MYSQL *
conn(const struct opts *o, const struct endpoint *ep, const char *db, bool tls, char *err,
     size_t errlen)
{
    MYSQL *m = mysql_init(NULL);
    unsigned timeout = 10;
    my_bool on = 1, off = 0;

    if (m == NULL) {
        snprintf(err, errlen, "mysql_init failed");
        return NULL;
    }
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (tls) {
        mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &on);
        mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &off);
        if (o->tls_ca != NULL) {
            mysql_options(m, MYSQL_OPT_SSL_CA, o->tls_ca);
        }
    }
    if (mysql_real_connect(m, ep->host, o->user, o->password, db, ep->port, NULL, 0) == NULL) {
        snprintf(err, errlen, "%.100s:%u%s: %.140s", ep->host, ep->port, tls ? " (TLS)" : "",
                 mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    if (tls && mysql_get_ssl_cipher(m) == NULL) {
        snprintf(err, errlen, "%.100s:%u: connected without TLS", ep->host, ep->port);
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* Run SQL on M, discarding any result. 0, or -1 (message printed). */
static int
exec(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) != 0) {
        fprintf(stderr, "path_bench: %s: %s\n", sql, mysql_error(m));
        return -1;
    }
    MYSQL_RES *r = mysql_store_result(m);
    if (r != NULL) {
        mysql_free_result(r);
    } else if (mysql_field_count(m) != 0) {
        fprintf(stderr, "path_bench: %s: no result: %s\n", sql, mysql_error(m));
        return -1;
    }
    return 0;
}

/* The text of the next query of KIND into SQL (K_POINT: keys 1..MAX_ID, a
 * new one each time until MAX_ID of them were used). */
static void
make_sql(enum kind kind, long max_id, char *sql, size_t len)
{
    switch (kind) {
    case K_SELECT1:
        snprintf(sql, len, "SELECT 1");
        break;
    case K_POINT:
        snprintf(sql, len, "SELECT id, g, amt FROM t WHERE id = %ld",
                 1 + (17 + g_point++ * 7919) % (max_id > 0 ? max_id : 1));
        break;
    case K_AGG:
        snprintf(sql, len, "SELECT g, SUM(amt) FROM t GROUP BY g");
        break;
    case K_AGG_NEW:
        snprintf(sql, len, "SELECT g, SUM(amt) FROM t WHERE g < %ld GROUP BY g", g_uniq++);
        break;
    }
}

/* N queries of KIND on M (each result fetched and checked non-empty).
 * Seconds, or -1 (message printed). */
static double
run_n(MYSQL *m, enum kind kind, long n, long max_id)
{
    char sql[256];
    double t0 = now_s();

    for (long i = 0; i < n; i++) {
        make_sql(kind, max_id, sql, sizeof(sql));
        if (mysql_real_query(m, sql, strlen(sql)) != 0) {
            fprintf(stderr, "path_bench: %s: %s\n", sql, mysql_error(m));
            return -1;
        }
        MYSQL_RES *res = mysql_store_result(m);
        if (res == NULL) {
            fprintf(stderr, "path_bench: %s: no result: %s\n", sql, mysql_error(m));
            return -1;
        }
        my_ulonglong rows = mysql_num_rows(res);
        mysql_free_result(res);
        if (rows == 0) {
            fprintf(stderr, "path_bench: %s: no rows\n", sql);
            return -1;
        }
    }
    return now_s() - t0;
}

/* N queries of KIND on a new connection to EP. Seconds, or -1. */
static double
run_on(const struct opts *o, const struct endpoint *ep, bool tls, enum kind kind, long n,
       long max_id)
{
    char err[256];
    MYSQL *m = conn(o, ep, o->db, tls, err, sizeof(err));
    if (m == NULL) {
        fprintf(stderr, "path_bench: %s\n", err);
        return -1;
    }
    double t = run_n(m, kind, n, max_id);
    mysql_close(m);
    return t;
}

/* N connects (with TLS when TLS) + close to EP. Seconds, or -1. */
static double
run_connects(const struct opts *o, const struct endpoint *ep, bool tls, long n)
{
    char err[256];
    double t0 = now_s();

    for (long i = 0; i < n; i++) {
        MYSQL *m = conn(o, ep, o->db, tls, err, sizeof(err));
        if (m == NULL) {
            fprintf(stderr, "path_bench: connect %ld: %s\n", i, err);
            return -1;
        }
        mysql_close(m);
    }
    return now_s() - t0;
}

/* One integer from the first row and column of SQL on M; -1 on failure. */
static long long
query_ll(MYSQL *m, const char *sql)
{
    long long v = -1;
    if (mysql_query(m, sql) != 0) {
        fprintf(stderr, "path_bench: %s: %s\n", sql, mysql_error(m));
        return -1;
    }
    MYSQL_RES *r = mysql_store_result(m);
    MYSQL_ROW row = r != NULL ? mysql_fetch_row(r) : NULL;
    if (row != NULL && row[0] != NULL) {
        v = atoll(row[0]);
    }
    if (r != NULL) {
        mysql_free_result(r);
    }
    return v;
}

/* RewriteHits of DB.mv_g (SHOW MATERIALIZED VIEWS through the proxy); -1
 * when absent. */
static long long
view_hits(MYSQL *p, const char *db)
{
    char sql[256];
    long long v = -1;
    int fi = -1, ni = -1;

    snprintf(sql, sizeof(sql), "SHOW MATERIALIZED VIEWS FROM `%s`", db);
    if (mysql_query(p, sql) != 0) {
        fprintf(stderr, "path_bench: %s: %s\n", sql, mysql_error(p));
        return -1;
    }
    MYSQL_RES *r = mysql_store_result(p);
    if (r == NULL) {
        return -1;
    }
    MYSQL_FIELD *f = mysql_fetch_fields(r);
    for (unsigned i = 0; i < mysql_num_fields(r); i++) {
        if (strcmp(f[i].name, "RewriteHits") == 0) {
            fi = (int)i;
        } else if (strcmp(f[i].name, "Name") == 0) {
            ni = (int)i;
        }
    }
    MYSQL_ROW row;
    while (fi >= 0 && ni >= 0 && (row = mysql_fetch_row(r)) != NULL) {
        if (row[ni] != NULL && strcmp(row[ni], "mv_g") == 0 && row[fi] != NULL) {
            v = atoll(row[fi]);
        }
    }
    mysql_free_result(r);
    return v;
}

/* Does EXPLAIN REWRITE of SQL on P say REWRITTEN (the summary row)? Prints
 * the reason when not. */
static bool
is_rewritten(MYSQL *p, const char *sql)
{
    char q[512];
    bool yes = false;

    snprintf(q, sizeof(q), "EXPLAIN REWRITE %s", sql);
    if (mysql_query(p, q) != 0) {
        fprintf(stderr, "path_bench: %s: %s\n", q, mysql_error(p));
        return false;
    }
    MYSQL_RES *r = mysql_store_result(p);
    MYSQL_ROW row;
    unsigned nf = r != NULL ? mysql_num_fields(r) : 0;
    while (r != NULL && (row = mysql_fetch_row(r)) != NULL) {
        if (nf >= 2 && row[0] == NULL && row[1] != NULL) {
            if (strncmp(row[1], "REWRITTEN", 9) == 0) {
                yes = true;
            } else {
                fprintf(stderr, "path_bench: EXPLAIN REWRITE %s: %s%s%s\n", sql, row[1],
                        nf >= 3 && row[2] != NULL ? ": " : "",
                        nf >= 3 && row[2] != NULL ? row[2] : "");
            }
        }
    }
    if (r != NULL) {
        mysql_free_result(r);
    }
    return yes;
}

/* Create database, t, its rows (direct) and mv_g (through the proxy). 0 or -1. */
static int
setup(const struct opts *o)
{
    char err[256], sql[512];
    MYSQL *d = conn(o, &o->direct, NULL, false, err, sizeof(err));
    if (d == NULL) {
        fprintf(stderr, "path_bench: %s\n", err);
        return -1;
    }
    snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS `%s`", o->db);
    int rc = exec(d, sql);
    if (rc == 0) {
        rc = mysql_select_db(d, o->db) != 0 ? -1 : 0;
    }
    if (rc == 0) {
        rc = exec(d, "DROP TABLE IF EXISTS t");
    }
    if (rc == 0) {
        rc = exec(d, "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, g INT NOT NULL, "
                     "amt DECIMAL(12,2) NOT NULL) ENGINE=InnoDB");
    }
    if (rc == 0) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO t SELECT seq, seq %% 100, (seq %% 9973) / 100 "
                 "FROM seq_1_to_%ld",
                 o->rows);
        rc = exec(d, sql);
    }
    mysql_close(d);
    if (rc != 0) {
        return -1;
    }
    MYSQL *p = conn(o, &o->proxy, o->db, false, err, sizeof(err));
    if (p == NULL) {
        fprintf(stderr, "path_bench: %s\n", err);
        return -1;
    }
    snprintf(sql, sizeof(sql), "DROP MATERIALIZED VIEW IF EXISTS `%s`.mv_g", o->db);
    rc = exec(p, sql);
    if (rc == 0) {
        snprintf(sql, sizeof(sql),
                 "CREATE MATERIALIZED VIEW `%s`.mv_g BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL "
                 "AS SELECT g, SUM(amt) AS s, COUNT(*) AS c FROM `%s`.t GROUP BY g",
                 o->db, o->db);
        rc = exec(p, sql);
    }
    mysql_close(p);
    return rc;
}

/* Drop mv_g (through the proxy) and the database (direct). */
static void
cleanup(const struct opts *o)
{
    char err[256], sql[256];
    MYSQL *p = conn(o, &o->proxy, NULL, false, err, sizeof(err));
    if (p != NULL) {
        snprintf(sql, sizeof(sql), "DROP MATERIALIZED VIEW IF EXISTS `%s`.mv_g", o->db);
        exec(p, sql);
        mysql_close(p);
    } else {
        fprintf(stderr, "path_bench: cleanup: %s\n", err);
    }
    MYSQL *d = conn(o, &o->direct, NULL, false, err, sizeof(err));
    if (d != NULL) {
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS `%s`", o->db);
        exec(d, sql);
        mysql_close(d);
    } else {
        fprintf(stderr, "path_bench: cleanup: %s\n", err);
    }
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: path_bench --direct HOST:PORT --proxy HOST:PORT [--tls-proxy HOST:PORT]\n"
            "                  [--tls-ca FILE] [--user U] [--password P] [--db D]\n"
            "                  [--rows R] [--n N] [--points P] [--conns C] [--repeat R]\n"
            "                  [--keep]\n"
            "       path_bench --proxy HOST:PORT --workload select1|point|agg|agg_new\n"
            "                  --count N [--db D] [--user U] [--password P]\n"
            "       path_bench --direct HOST:PORT --proxy HOST:PORT --workload setup|cleanup\n"
            "                  [--db D] [--rows R]\n");
    exit(2);
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
    bool have_direct = false, have_proxy = false, ok = true;

    *o = (struct opts){.user = "root", .password = "", .db = "bench_path", .rows = 200000,
                       .n = 30, .points = 5000, .conns = 300, .repeat = 3};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--keep") == 0) {
            o->keep = true;
            continue;
        }
        if (i + 1 >= argc) {
            usage();
        }
        const char *v = argv[++i];
        if (strcmp(a, "--direct") == 0) {
            have_direct = parse_endpoint(v, &o->direct);
        } else if (strcmp(a, "--proxy") == 0) {
            have_proxy = parse_endpoint(v, &o->proxy);
        } else if (strcmp(a, "--tls-proxy") == 0) {
            ok = ok && parse_endpoint(v, &o->tls_proxy);
        } else if (strcmp(a, "--tls-ca") == 0) {
            o->tls_ca = v;
        } else if (strcmp(a, "--user") == 0) {
            o->user = v;
        } else if (strcmp(a, "--password") == 0) {
            o->password = v;
        } else if (strcmp(a, "--db") == 0) {
            o->db = v;
        } else if (strcmp(a, "--rows") == 0) {
            o->rows = atol(v);
        } else if (strcmp(a, "--n") == 0) {
            o->n = atol(v);
        } else if (strcmp(a, "--points") == 0) {
            o->points = atol(v);
        } else if (strcmp(a, "--conns") == 0) {
            o->conns = atol(v);
        } else if (strcmp(a, "--repeat") == 0) {
            o->repeat = atoi(v);
        } else if (strcmp(a, "--workload") == 0) {
            o->workload = v;
        } else if (strcmp(a, "--count") == 0) {
            o->count = atol(v);
        } else {
            usage();
        }
    }
    bool bad_db = strncmp(o->db, "bench", 5) != 0;
    if (bad_db) {
        fprintf(stderr, "path_bench: --db must start with \"bench\" (it is dropped)\n");
    }
    if (o->workload != NULL && (strcmp(o->workload, "setup") == 0 ||
                                strcmp(o->workload, "cleanup") == 0)) {
        if (!have_direct || !have_proxy || o->rows < 1 || bad_db) {
            usage();
        }
        return;
    }
    if (o->workload != NULL) {
        if (!have_proxy || o->count < 1) {
            usage();
        }
        return;
    }
    if (bad_db || !ok || !have_direct || !have_proxy || o->rows < 0 || o->n < 1 ||
        o->points < 1 || o->conns < 1 || o->repeat < 1) {
        usage();
    }
}

static double
best(double a, double b)
{
    return a < 0 ? b : (b < 0 || a < b) ? a : b;
}

/* The second form: COUNT queries of one kind on one proxy connection. */
static int
workload(const struct opts *o)
{
    static const struct {
        const char *name;
        enum kind kind;
    } kinds[] = {{"select1", K_SELECT1}, {"point", K_POINT}, {"agg", K_AGG},
                 {"agg_new", K_AGG_NEW}};
    char err[256];
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(o->workload, kinds[i].name) != 0) {
            continue;
        }
        MYSQL *m = conn(o, &o->proxy, o->db, false, err, sizeof(err));
        if (m == NULL) {
            fprintf(stderr, "path_bench: %s\n", err);
            return 2;
        }
        long max_id = kinds[i].kind == K_POINT ? query_ll(m, "SELECT MAX(id) FROM t") : 1;
        /* start from the clock: new texts even across the runs of callgrind.sh */
        long clock_ms = (long)(now_s() * 1000) % 100000000L;
        g_uniq = 1000 + clock_ms * 10;
        g_point = clock_ms;
        double t = max_id > 0 ? run_n(m, kinds[i].kind, o->count, max_id) : -1;
        mysql_close(m);
        if (max_id <= 0) {
            fprintf(stderr, "path_bench: %s.t is empty or missing\n", o->db);
        }
        return t < 0 ? 1 : 0;
    }
    fprintf(stderr, "path_bench: unknown workload %s\n", o->workload);
    return 2;
}

/* One line of the table and its RATIO line. */
static void
report(const char *what, const char *ds, const char *ps, const char *ratio_name, double ratio)
{
    printf("%-52s %16s %16s %9.2fx\n", what, ds, ps, ratio);
    printf("RATIO %s %.3f\n", ratio_name, ratio);
}

int
main(int argc, char **argv)
{
    struct opts o;
    char err[256], a[64], b[64];
    int fails = 0;

    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows through a pipe too */
    parse_args(argc, argv, &o);
    if (mysql_library_init(0, NULL, NULL) != 0) {
        fprintf(stderr, "path_bench: mysql_library_init failed\n");
        return 2;
    }
    if (o.workload != NULL && strcmp(o.workload, "setup") == 0) {
        int rc = setup(&o) == 0 ? 0 : 2;
        mysql_library_end();
        return rc;
    }
    if (o.workload != NULL && strcmp(o.workload, "cleanup") == 0) {
        cleanup(&o);
        mysql_library_end();
        return 0;
    }
    if (o.workload != NULL) {
        int rc = workload(&o);
        mysql_library_end();
        return rc;
    }
    if (o.rows > 0 && setup(&o) != 0) {
        fprintf(stderr, "path_bench: setup failed\n");
        cleanup(&o);
        return 2;
    }
    MYSQL *p = conn(&o, &o.proxy, o.db, false, err, sizeof(err));
    if (p == NULL) {
        fprintf(stderr, "path_bench: %s\n", err);
        if (!o.keep) {
            cleanup(&o);
        }
        return 2;
    }
    long max_id = (long)query_ll(p, "SELECT MAX(id) FROM t");
    const char *agg = "SELECT g, SUM(amt) FROM t GROUP BY g";
    if (max_id < 1 || !is_rewritten(p, agg) ||
        !is_rewritten(p, "SELECT g, SUM(amt) FROM t WHERE g < 1000 GROUP BY g")) {
        fprintf(stderr, "path_bench: %s.t is empty or the proxy does not rewrite onto %s.mv_g\n",
                o.db, o.db);
        mysql_close(p);
        if (!o.keep) {
            cleanup(&o);
        }
        return 1;
    }

    printf("path_bench: %s.t (%ld rows), view %s.mv_g, best of %d runs per side\n", o.db, max_id,
           o.db, o.repeat);
    printf("%-52s %16s %16s %10s\n", "workload", "direct", "proxy", "ratio");

    /* a. rewritten aggregate against the scan direct */
    long long h0 = view_hits(p, o.db);
    double d = -1, x = -1;
    run_on(&o, &o.direct, false, K_AGG, 2, max_id); /* warm the buffer pool */
    run_on(&o, &o.proxy, false, K_AGG, 2, max_id);
    for (int r = 0; r < o.repeat; r++) {
        d = best(d, run_on(&o, &o.direct, false, K_AGG, o.n, max_id));
        x = best(x, run_on(&o, &o.proxy, false, K_AGG, o.n, max_id));
    }
    long long h1 = view_hits(p, o.db);
    if (h0 < 0 || h1 - h0 < (long long)o.n * o.repeat) {
        fprintf(stderr, "path_bench: mv_g's RewriteHits moved by %lld, wanted >= %ld: the proxy "
                        "did not answer from the view\n", h1 - h0, o.n * o.repeat);
        fails++;
    } else if (d <= 0 || x <= 0) {
        fails++;
    } else {
        char what[96];
        snprintf(what, sizeof(what), "a. GROUP BY g over %ld rows (view hit) x%ld", max_id, o.n);
        snprintf(a, sizeof(a), "%.2f ms/q", d / o.n * 1e3);
        snprintf(b, sizeof(b), "%.3f ms/q", x / o.n * 1e3);
        report(what, a, b, "rewrite_agg_direct_over_proxy", d / x);
    }

    /* b. validation cache: same text (hit) vs new text (miss), relayed point baseline */
    double hit = -1, miss = -1, pt = -1, ptd = -1;
    long np = o.points;
    run_on(&o, &o.proxy, false, K_AGG, np / 10 + 1, max_id);
    run_on(&o, &o.proxy, false, K_POINT, np / 10 + 1, max_id);
    for (int r = 0; r < o.repeat; r++) {
        hit = best(hit, run_on(&o, &o.proxy, false, K_AGG, np, max_id));
        miss = best(miss, run_on(&o, &o.proxy, false, K_AGG_NEW, np, max_id));
        pt = best(pt, run_on(&o, &o.proxy, false, K_POINT, np, max_id));
        ptd = best(ptd, run_on(&o, &o.direct, false, K_POINT, np, max_id));
    }
    if (hit <= 0 || miss <= 0 || pt <= 0 || ptd <= 0) {
        fails++;
    } else {
        snprintf(a, sizeof(a), "%.1f us/q", ptd / np * 1e6);
        snprintf(b, sizeof(b), "%.1f us/q", pt / np * 1e6);
        report("b. point SELECT by key, relayed (baseline)", a, b, "point_proxy_over_direct",
               pt / ptd);
        snprintf(b, sizeof(b), "%.1f us/q", hit / np * 1e6);
        report("b. rewritten, same text (cache hit) / point", "-", b, "vcache_hit_over_point",
               hit / pt);
        snprintf(b, sizeof(b), "%.1f us/q", miss / np * 1e6);
        report("b. rewritten, new text (cache miss) / hit", "-", b, "vcache_miss_over_hit",
               miss / hit);
    }
    long long h2 = view_hits(p, o.db);
    if (h2 - h1 < 2LL * np * o.repeat) {
        fprintf(stderr, "path_bench: mv_g's RewriteHits moved by %lld in part b, wanted >= %ld\n",
                h2 - h1, 2L * np * o.repeat);
        fails++;
    }
    mysql_close(p);

    /* c. TLS */
    if (o.tls_proxy.port != 0) {
        struct {
            const char *what;
            const char *ratio;
            enum kind kind;
        } tq[] = {{"c. SELECT 1 over TLS", "tls_select1", K_SELECT1},
                  {"c. point SELECT by key over TLS", "tls_points", K_POINT}};
        for (size_t k = 0; k < sizeof(tq) / sizeof(tq[0]); k++) {
            d = x = -1;
            run_on(&o, &o.direct, true, tq[k].kind, np / 10 + 1, max_id);
            run_on(&o, &o.tls_proxy, true, tq[k].kind, np / 10 + 1, max_id);
            for (int r = 0; r < o.repeat; r++) {
                d = best(d, run_on(&o, &o.direct, true, tq[k].kind, np, max_id));
                x = best(x, run_on(&o, &o.tls_proxy, true, tq[k].kind, np, max_id));
            }
            if (d <= 0 || x <= 0) {
                fails++;
                continue;
            }
            snprintf(a, sizeof(a), "%.0f q/s", np / d);
            snprintf(b, sizeof(b), "%.0f q/s", np / x);
            report(tq[k].what, a, b, tq[k].ratio, x / d);
        }
        for (int tls = 0; tls <= 1; tls++) {
            const struct endpoint *ep = tls ? &o.tls_proxy : &o.proxy;
            d = x = -1;
            for (int r = 0; r < o.repeat; r++) {
                d = best(d, run_connects(&o, &o.direct, tls, o.conns));
                x = best(x, run_connects(&o, ep, tls, o.conns));
            }
            if (d <= 0 || x <= 0) {
                fails++;
                continue;
            }
            snprintf(a, sizeof(a), "%.2f ms/conn", d / o.conns * 1e3);
            snprintf(b, sizeof(b), "%.2f ms/conn", x / o.conns * 1e3);
            report(tls ? "c. connect + TLS handshake + close" : "c. connect + close (plaintext)",
                   a, b, tls ? "tls_connect" : "plain_connect", x / d);
        }
    }
    if (!o.keep) {
        cleanup(&o);
    }
    mysql_library_end();
    if (fails > 0) {
        fprintf(stderr, "path_bench: %d measurement(s) failed\n", fails);
    }
    return fails > 0 ? 1 : 0;
}
