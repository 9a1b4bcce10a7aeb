/*
 * relay_bench.c - what the proxy costs on queries it does not rewrite:
 * the same workload directly against MariaDB and through mvproxy, in the
 * same run, reported as ratios (proxy / direct; 1.00 = no overhead).
 *
 *   1. SELECT 1, one client, one at a time: the relay's own latency (the
 *      decision for a text seen before comes from the proxy's cache);
 *   2. point queries: N primary-key SELECTs with a different key each time,
 *      one client (a round trip plus the proxy's parse and match of a new
 *      text over a table that views read);
 *   3. the same with T client threads (throughput);
 *   4. a large result: SELECT * ... LIMIT M streamed with mysql_use_result
 *      (relay bandwidth).
 *
 *   relay_bench --direct HOST:PORT --proxy HOST:PORT [--user U] [--password P]
 *               [--db sales_demo] [--table raw_sales] [--small N] [--threads T]
 *               [--large-rows M] [--repeat R]
 *
 * Each measurement runs R times (default 3) per side, alternating direct and
 * proxy, and keeps the best (least disturbed) run. Needs a table with a
 * BIGINT primary key named sale_id (examples/schema.sql); bench/run.sh runs
 * it against the demo's data.
 */
#include <errno.h>
#include <pthread.h>
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
    const char *user;           /* login for both */
    const char *password;       /* its password */
    const char *db;             /* database */
    const char *table;          /* table with a sale_id BIGINT key */
    long small;                 /* point queries per measurement */
    int threads;                /* client threads for the throughput run */
    long large_rows;            /* rows of the large result */
    int repeat;                 /* runs per side; the best counts */
};

struct worker {
    const struct opts *o;       /* options */
    const struct endpoint *ep;  /* where to connect */
    long n;                     /* queries to run */
    long seed;                  /* first key */
    long max_id;                /* keys are 1..max_id */
    const char *fixed;          /* run this text every time (NULL: point SELECTs by key) */
    int rc;                     /* 0 ok, -1 failed */
    char err[256];              /* first error */
};

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Connect to EP; NULL with ERR filled on failure. Caller closes. */
static MYSQL *
connect_to(const struct opts *o, const struct endpoint *ep, char *err, size_t errlen)
{
    return mvp_connect(ep, o->user, o->password, o->db, err, errlen);
}

/* Run W->n point queries on one connection (thread entry). */
static void *
point_queries(void *arg)
{
    struct worker *w = arg;
    char sql[256];
    MYSQL *m = connect_to(w->o, w->ep, w->err, sizeof(w->err));

    w->rc = -1;
    if (m == NULL) {
        return NULL;
    }
    for (long i = 0; i < w->n; i++) {
        long id = 1 + (w->seed + i * 7919) % w->max_id;
        if (w->fixed != NULL) {
            snprintf(sql, sizeof(sql), "%s", w->fixed);
        } else {
            snprintf(sql, sizeof(sql),
                     "SELECT sale_id, sale_date, sale_amount FROM %s WHERE sale_id = %ld",
                     w->o->table, id);
        }
        if (mysql_real_query(m, sql, strlen(sql)) != 0) {
            snprintf(w->err, sizeof(w->err), "%s", mysql_error(m));
            mysql_close(m);
            return NULL;
        }
        MYSQL_RES *res = mysql_store_result(m);
        if (res == NULL) {
            snprintf(w->err, sizeof(w->err), "no result: %s", mysql_error(m));
            mysql_close(m);
            return NULL;
        }
        mysql_free_result(res);
    }
    mysql_close(m);
    w->rc = 0;
    return NULL;
}

/*
 * N queries over T threads against EP: FIXED every time, or (FIXED NULL)
 * point SELECTs by key. Seconds, or -1 (message printed).
 */
static double
run_points(const struct opts *o, const struct endpoint *ep, long n, int t, long max_id,
           const char *fixed)
{
    pthread_t tid[64];
    struct worker w[64];
    double t0 = now_s();

    for (int i = 0; i < t; i++) {
        w[i] = (struct worker){
            .o = o, .ep = ep, .n = n / t, .seed = 17 + i * 100003L, .max_id = max_id,
            .fixed = fixed};
        if (pthread_create(&tid[i], NULL, point_queries, &w[i]) != 0) {
            fprintf(stderr, "relay_bench: pthread_create failed\n");
            return -1;
        }
    }
    int bad = 0;
    for (int i = 0; i < t; i++) {
        pthread_join(tid[i], NULL);
        if (w[i].rc != 0) {
            fprintf(stderr, "relay_bench: point queries via %s:%u: %s\n", ep->host, ep->port,
                    w[i].err);
            bad = 1;
        }
    }
    return bad ? -1 : now_s() - t0;
}

/* Stream SELECT * ... LIMIT ROWS from EP; seconds (and *BYTES), or -1. */
static double
run_large(const struct opts *o, const struct endpoint *ep, long rows, double *bytes)
{
    char err[256], sql[256];
    MYSQL *m = connect_to(o, ep, err, sizeof(err));
    MYSQL_ROW row;
    long got = 0;

    if (m == NULL) {
        fprintf(stderr, "relay_bench: %s\n", err);
        return -1;
    }
    snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY sale_id LIMIT %ld", o->table, rows);
    double t0 = now_s();
    *bytes = 0;
    if (mysql_real_query(m, sql, strlen(sql)) != 0) {
        fprintf(stderr, "relay_bench: large result: %s\n", mysql_error(m));
        mysql_close(m);
        return -1;
    }
    MYSQL_RES *res = mysql_use_result(m);
    if (res == NULL) {
        fprintf(stderr, "relay_bench: large result: %s\n", mysql_error(m));
        mysql_close(m);
        return -1;
    }
    unsigned nf = mysql_num_fields(res);
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *len = mysql_fetch_lengths(res);
        for (unsigned i = 0; i < nf; i++) {
            *bytes += len[i];
        }
        got++;
    }
    bool failed = mysql_errno(m) != 0;
    if (failed) {
        fprintf(stderr, "relay_bench: large result: %s\n", mysql_error(m));
    }
    mysql_free_result(res);
    double t = now_s() - t0;
    mysql_close(m);
    if (failed || got != rows) {
        if (!failed) {
            fprintf(stderr, "relay_bench: large result: %ld rows, wanted %ld\n", got, rows);
        }
        return -1;
    }
    return t;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: relay_bench --direct HOST:PORT --proxy HOST:PORT [--user U] [--password P]\n"
            "                   [--db DB] [--table T] [--small N] [--threads T]\n"
            "                   [--large-rows M] [--repeat R]\n");
    exit(2);
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
    bool have_direct = false, have_proxy = false;

    *o = (struct opts){.user = "root", .password = "", .db = "sales_demo", .table = "raw_sales",
                       .small = 20000, .threads = 4, .large_rows = 1000000, .repeat = 3};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--direct") == 0) {
            have_direct = parse_endpoint(v, &o->direct);
        } else if (strcmp(a, "--proxy") == 0) {
            have_proxy = parse_endpoint(v, &o->proxy);
        } else if (strcmp(a, "--user") == 0) {
            o->user = v;
        } else if (strcmp(a, "--password") == 0) {
            o->password = v;
        } else if (strcmp(a, "--db") == 0) {
            o->db = v;
        } else if (strcmp(a, "--table") == 0) {
            o->table = v;
        } else if (strcmp(a, "--small") == 0) {
            o->small = atol(v);
        } else if (strcmp(a, "--threads") == 0) {
            o->threads = atoi(v);
        } else if (strcmp(a, "--large-rows") == 0) {
            o->large_rows = atol(v);
        } else if (strcmp(a, "--repeat") == 0) {
            o->repeat = atoi(v);
        } else {
            usage();
        }
    }
    if (argc % 2 != 1 || !have_direct || !have_proxy || o->small < 1 || o->threads < 1 ||
        o->threads > 64 || o->large_rows < 0 || o->repeat < 1) {
        usage();
    }
}

static double
best(double a, double b)
{
    return a < 0 ? b : (b < 0 || a < b) ? a : b;
}

int
main(int argc, char **argv)
{
    struct opts o;
    char err[256];
    long max_id = 0;

    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows through a pipe too */
    parse_args(argc, argv, &o);
    if (mysql_library_init(0, NULL, NULL) != 0) {
        fprintf(stderr, "relay_bench: mysql_library_init failed\n");
        return 2;
    }
    MYSQL *m = connect_to(&o, &o.direct, err, sizeof(err));
    if (m == NULL) {
        fprintf(stderr, "relay_bench: %s\n", err);
        return 2;
    }
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(sale_id), 0) FROM %s", o.table);
    if (mysql_query(m, sql) == 0) {
        MYSQL_RES *res = mysql_store_result(m);
        MYSQL_ROW row = res != NULL ? mysql_fetch_row(res) : NULL;
        if (row != NULL && row[0] != NULL) {
            max_id = atol(row[0]);
        }
        if (res != NULL) {
            mysql_free_result(res);
        }
    }
    mysql_close(m);
    if (max_id < 1) {
        fprintf(stderr, "relay_bench: %s.%s is empty or missing\n", o.db, o.table);
        return 2;
    }
    if (o.large_rows > max_id) {
        o.large_rows = max_id;
    }

    printf("relay_bench: %s.%s (%ld rows), best of %d runs per side\n", o.db, o.table, max_id,
           o.repeat);
    printf("%-44s %14s %14s %9s\n", "workload", "direct", "proxy", "proxy/direct");

    int fails = 0;
    struct {
        const char *name;
        const char *ratio;
        int threads;
        const char *fixed;
    } pts[] = {{"SELECT 1, 1 client", "select1_1thr", 1, "SELECT 1"},
               {"point SELECT by key, 1 client", "points_1thr", 1, NULL},
               {"point SELECT by key, N clients", "points_nthr", o.threads, NULL}};
    for (size_t k = 0; k < sizeof(pts) / sizeof(pts[0]); k++) {
        double d = -1, p = -1;
        /* warm both paths (buffer pool, proxy decision cache) before timing */
        run_points(&o, &o.direct, o.small / 10 + 1, pts[k].threads, max_id, pts[k].fixed);
        run_points(&o, &o.proxy, o.small / 10 + 1, pts[k].threads, max_id, pts[k].fixed);
        for (int r = 0; r < o.repeat; r++) {
            d = best(d, run_points(&o, &o.direct, o.small, pts[k].threads, max_id, pts[k].fixed));
            p = best(p, run_points(&o, &o.proxy, o.small, pts[k].threads, max_id, pts[k].fixed));
        }
        if (d <= 0 || p <= 0) {
            fails++;
            continue;
        }
        char name[64], ds[32], ps[32];
        snprintf(name, sizeof(name), "%s (%d thr, %ld q)", pts[k].name, pts[k].threads, o.small);
        snprintf(ds, sizeof(ds), "%.0f q/s", o.small / d);
        snprintf(ps, sizeof(ps), "%.0f q/s", o.small / p);
        printf("%-44s %14s %14s %8.2fx\n", name, ds, ps, p / d);
        printf("RATIO %s %.3f\n", pts[k].ratio, p / d);
    }
    if (o.large_rows > 0) {
        double d = -1, p = -1, bytes = 0;
        run_large(&o, &o.direct, o.large_rows, &bytes);
        for (int r = 0; r < o.repeat; r++) {
            d = best(d, run_large(&o, &o.direct, o.large_rows, &bytes));
            p = best(p, run_large(&o, &o.proxy, o.large_rows, &bytes));
        }
        if (d <= 0 || p <= 0) {
            fails++;
        } else {
            char name[64], ds[32], ps[32];
            snprintf(name, sizeof(name), "large result (%ld rows, %.0f MB)", o.large_rows,
                     bytes / 1e6);
            snprintf(ds, sizeof(ds), "%.0f MB/s", bytes / 1e6 / d);
            snprintf(ps, sizeof(ps), "%.0f MB/s", bytes / 1e6 / p);
            printf("%-44s %14s %14s %8.2fx\n", name, ds, ps, p / d);
            printf("RATIO large_result %.3f\n", p / d);
        }
    }
    mysql_library_end();
    return fails > 0 ? 1 : 0;
}
