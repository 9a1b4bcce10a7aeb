/*
 * tpch_bench.c - the TPC-H / SSB benchmark's client (bench/tpch.sh drives
 * it): each query of a file, directly against MariaDB and through mvproxy,
 * reported as the ratio direct / proxy of the medians (never as timed
 * assertions in tests).
 *
 *   tpch_bench --direct HOST:PORT --proxy HOST:PORT --db DB --queries FILE
 *              [--user U] [--password P] [--runs 5] [--only Q1,Q6,...]
 *              [--tsv OUT] [--confirm N]
 *
 * FILE holds queries, each starting at a line "-- @NAME" (other lines that
 * start with "--" are comments; a trailing ';' is dropped). For each query:
 *
 *   1. one warm-up run direct and two through the proxy (the second time
 *      the proxy sees a text it asks the backend's optimizer, in the
 *      background, whether the rewrite is cheaper than the original), then
 *      a pause of --settle-ms (1000);
 *   2. EXPLAIN REWRITE <query> through the proxy: the summary row's status
 *      (REWRITTEN / NOT_REWRITTEN / ORIGINAL_CHEAPER), the CHOSEN view and
 *      the summary's reason;
 *   3. --runs runs per side, alternating (direct first in even runs, the
 *      proxy first in odd ones), each the time to
 *      send the query and read its whole result (mysql_store_result); the
 *      median of each side counts;
 *   4. the rows of the last proxy run against those of the last direct run,
 *      every field as text (NULL as \N), both sorted: equal or not. A
 *      difference is printed loudly (the first differing lines).
 *
 * With --confirm N, a query whose ratio is below 0.9 is measured again, N
 * runs per side (ABBA), and printed on a second line: on a shared machine
 * a median of 5 moves by +-30% for queries the proxy only relays, and this
 * tells that noise from a real slowdown.
 *
 * Prints one line per query and a summary: queries slower through the proxy
 * beyond noise (direct / proxy < 0.9), and queries answered by a view that
 * are not at least 10x faster. --tsv writes the same table as tab-separated
 * lines. Exits 1 when rows differ or a query failed, 0 otherwise (the
 * speed targets are reported, not enforced).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "../examples/mvp_client.h"

struct query {
    char *name;
    char *sql;
};

struct rows {
    char **line;                /* one per row, fields joined by \t */
    size_t n, cap;
};

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL) {
        fprintf(stderr, "tpch_bench: out of memory\n");
        exit(2);
    }
    return q;
}

static char *
xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL) {
        fprintf(stderr, "tpch_bench: out of memory\n");
        exit(2);
    }
    return d;
}

/* Read FILE's queries into *QS. Returns how many, or -1. */
static long
read_queries(const char *file, struct query **qs)
{
    FILE *f = fopen(file, "r");
    char line[8192];
    long n = 0, cap = 0;
    struct query *v = NULL;
    size_t len = 0, sz = 0;

    if (f == NULL) {
        fprintf(stderr, "tpch_bench: %s: %s\n", file, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "-- @", 4) == 0) {
            char *e = line + strlen(line);
            while (e > line + 4 && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ')) {
                *--e = '\0';
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 32;
                v = xrealloc(v, (size_t)cap * sizeof(*v));
            }
            v[n].name = xstrdup(line + 4);
            v[n].sql = NULL;
            n++;
            len = sz = 0;
            continue;
        }
        if (strncmp(line, "--", 2) == 0 || n == 0) {
            continue;
        }
        size_t l = strlen(line);
        if (len + l + 1 > sz) {
            sz = (len + l + 1) * 2;
            v[n - 1].sql = xrealloc(v[n - 1].sql, sz);
        }
        memcpy(v[n - 1].sql + len, line, l + 1);
        len += l;
    }
    fclose(f);
    for (long i = 0; i < n; i++) {
        char *s = v[i].sql;
        if (s == NULL) {
            fprintf(stderr, "tpch_bench: %s: query %s is empty\n", file, v[i].name);
            return -1;
        }
        size_t l = strlen(s);
        while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == ' ' || s[l - 1] == ';' || s[l - 1] == '\r')) {
            s[--l] = '\0';
        }
    }
    *qs = v;
    return n;
}

static void
rows_free(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->line[i]);
    }
    free(r->line);
    memset(r, 0, sizeof(*r));
}

static int
cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run SQL on M and read its result; with OUT, keep the rows as text. Time
 * in ms into *MS. 0, or -1 (message printed). */
static int
run(MYSQL *m, const char *name, const char *side, const char *sql, struct rows *out, double *ms)
{
    double t0 = now_ms();
    if (mysql_real_query(m, sql, strlen(sql)) != 0) {
        fprintf(stderr, "tpch_bench: %s %s: ERROR %u: %s\n", name, side, mysql_errno(m),
                mysql_error(m));
        return -1;
    }
    MYSQL_RES *r = mysql_store_result(m);
    if (r == NULL && mysql_field_count(m) != 0) {
        fprintf(stderr, "tpch_bench: %s %s: no result: %s\n", name, side, mysql_error(m));
        return -1;
    }
    double t1 = now_ms();
    if (ms != NULL) {
        *ms = t1 - t0;
    }
    if (r == NULL) {
        return 0;
    }
    if (out != NULL) {
        unsigned nf = mysql_num_fields(r);
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(r)) != NULL) {
            unsigned long *lens = mysql_fetch_lengths(r);
            size_t tot = 1;
            for (unsigned i = 0; i < nf; i++) {
                tot += (row[i] ? lens[i] : 2) + 1;
            }
            char *s = xrealloc(NULL, tot), *p = s;
            for (unsigned i = 0; i < nf; i++) {
                if (i > 0) {
                    *p++ = '\t';
                }
                if (row[i] == NULL) {
                    memcpy(p, "\\N", 2);
                    p += 2;
                } else {
                    memcpy(p, row[i], lens[i]);
                    p += lens[i];
                }
            }
            *p = '\0';
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 64;
                out->line = xrealloc(out->line, out->cap * sizeof(char *));
            }
            out->line[out->n++] = s;
        }
        qsort(out->line, out->n, sizeof(char *), cmp_line);
    }
    mysql_free_result(r);
    return 0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Shorten S into DST (at most N-1 characters, "..." when cut); tabs and
 * newlines become spaces. */
static void
shorten(char *dst, size_t n, const char *s)
{
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < n; i++) {
        dst[i] = (s[i] == '\t' || s[i] == '\n' || s[i] == '\r') ? ' ' : s[i];
    }
    dst[i] = '\0';
    if (s[i] != '\0' && n > 4) {
        strcpy(dst + n - 4, "...");
    }
}

/* EXPLAIN REWRITE of SQL through P: the summary's status into STATUS, the
 * chosen view into VIEW ("" when none), the summary's reason into REASON. */
static int
explain(MYSQL *p, const char *name, const char *sql, char *status, size_t sn, char *view,
        size_t vn, char *reason, size_t rn)
{
    size_t l = strlen(sql);
    char *q = xrealloc(NULL, l + 32);
    snprintf(q, l + 32, "EXPLAIN REWRITE %s", sql);
    snprintf(status, sn, "?");
    view[0] = reason[0] = '\0';
    if (mysql_real_query(p, q, strlen(q)) != 0) {
        fprintf(stderr, "tpch_bench: %s EXPLAIN REWRITE: ERROR %u: %s\n", name, mysql_errno(p),
                mysql_error(p));
        snprintf(status, sn, "EXPLAIN_ERROR");
        free(q);
        return -1;
    }
    free(q);
    MYSQL_RES *r = mysql_store_result(p);
    if (r == NULL) {
        snprintf(status, sn, "EXPLAIN_ERROR");
        return -1;
    }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(r)) != NULL) {
        /* mv_name, status, reason, stale_partitions, est_rows, sql */
        if (row[0] == NULL) {
            snprintf(status, sn, "%s", row[1] ? row[1] : "?");
            shorten(reason, rn, row[2] ? row[2] : "");
        } else if (row[1] != NULL && strcmp(row[1], "CHOSEN") == 0) {
            const char *dot = strrchr(row[0], '.');
            snprintf(view, vn, "%s", dot ? dot + 1 : row[0]);
        }
    }
    mysql_free_result(r);
    return 0;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: tpch_bench --direct HOST:PORT --proxy HOST:PORT --db DB --queries FILE\n"
            "                  [--user U] [--password P] [--runs 5] [--settle-ms 1000]\n"
            "                  [--only NAME,NAME] [--tsv OUT] [--confirm N]\n");
    exit(2);
}

static bool
selected(const char *only, const char *name)
{
    if (only == NULL) {
        return true;
    }
    size_t l = strlen(name);
    for (const char *p = only; *p != '\0';) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == l && strncasecmp(p, name, n) == 0) {
            return true;
        }
        p += n + (c != NULL);
    }
    return false;
}

int
main(int argc, char **argv)
{
    struct endpoint direct = {0}, proxy = {0};
    const char *user = "root", *password = "", *db = NULL, *file = NULL, *only = NULL;
    const char *tsv = NULL;
    int runs = 5, confirm = 0;
    long settle = 1000;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            usage();
        }
        if (strcmp(a, "--direct") == 0 && parse_endpoint(v, &direct)) {
        } else if (strcmp(a, "--proxy") == 0 && parse_endpoint(v, &proxy)) {
        } else if (strcmp(a, "--user") == 0) {
            user = v;
        } else if (strcmp(a, "--password") == 0) {
            password = v;
        } else if (strcmp(a, "--db") == 0) {
            db = v;
        } else if (strcmp(a, "--queries") == 0) {
            file = v;
        } else if (strcmp(a, "--only") == 0) {
            only = v;
        } else if (strcmp(a, "--tsv") == 0) {
            tsv = v;
        } else if (strcmp(a, "--runs") == 0) {
            runs = atoi(v);
        } else if (strcmp(a, "--confirm") == 0) {
            confirm = atoi(v);
        } else if (strcmp(a, "--settle-ms") == 0) {
            settle = atol(v);
        } else {
            usage();
        }
        i++;
    }
    if (direct.port == 0 || proxy.port == 0 || db == NULL || file == NULL || runs < 1 || runs > 99 ||
        confirm < 0 || confirm > 99) {
        usage();
    }
    struct query *qs;
    long nq = read_queries(file, &qs);
    if (nq < 0) {
        return 2;
    }
    char err[512];
    MYSQL *d = mvp_connect(&direct, user, password, db, err, sizeof(err));
    MYSQL *p = d ? mvp_connect(&proxy, user, password, db, err, sizeof(err)) : NULL;
    if (p == NULL) {
        fprintf(stderr, "tpch_bench: %s\n", err);
        return 2;
    }
    FILE *out = NULL;
    if (tsv != NULL && (out = fopen(tsv, "w")) == NULL) {
        fprintf(stderr, "tpch_bench: %s: %s\n", tsv, strerror(errno));
        return 2;
    }
    if (out) {
        fprintf(out, "query\tdirect_ms\tproxy_ms\tratio\tstatus\tview\trows\trows_equal\treason\n");
    }
    printf("%-6s %10s %10s %9s  %-6s %-5s  %s\n", "query", "direct ms", "proxy ms", "d/p",
           "rows", "equal", "status / view (reason)");
    int still_slower = 0;
    char still_list[1024] = "";
    int failed = 0, mismatches = 0, slower = 0, agg = 0, agg10 = 0, rewritten = 0;
    char slow_list[1024] = "", agg_slow_list[1024] = "", mismatch_list[1024] = "";
    for (long qi = 0; qi < nq; qi++) {
        const struct query *q = &qs[qi];
        if (!selected(only, q->name)) {
            continue;
        }
        struct rows rd = {0}, rp = {0};
        double td[100], tp[100];
        char status[64], view[128], reason[4096], rshort[200];
        bool ok = true;

        /* 1. warm-ups: one direct, two through the proxy, then settle. */
        ok = run(d, q->name, "direct", q->sql, NULL, NULL) == 0 &&
             run(p, q->name, "proxy", q->sql, NULL, NULL) == 0 &&
             run(p, q->name, "proxy", q->sql, NULL, NULL) == 0;
        usleep((useconds_t)settle * 1000);
        /* 2. the decision. */
        explain(p, q->name, q->sql, status, sizeof(status), view, sizeof(view), reason,
                sizeof(reason));
        /* 3. alternating timed runs. */
        for (int r = 0; ok && r < runs; r++) {
            bool last = r == runs - 1;
            if (r % 2 == 0) {
                ok = run(d, q->name, "direct", q->sql, last ? &rd : NULL, &td[r]) == 0 &&
                     run(p, q->name, "proxy", q->sql, last ? &rp : NULL, &tp[r]) == 0;
            } else {    /* ABBA: neither side always runs first */
                ok = run(p, q->name, "proxy", q->sql, last ? &rp : NULL, &tp[r]) == 0 &&
                     run(d, q->name, "direct", q->sql, last ? &rd : NULL, &td[r]) == 0;
            }
        }
        if (!ok) {
            failed++;
            printf("%-6s FAILED (see the error above)\n", q->name);
            if (out) {
                fprintf(out, "%s\t\t\t\t%s\t%s\t\tFAILED\t\n", q->name, status, view);
            }
            rows_free(&rd);
            rows_free(&rp);
            continue;
        }
        /* 4. rows. */
        bool equal = rd.n == rp.n;
        for (size_t i = 0; equal && i < rd.n; i++) {
            equal = strcmp(rd.line[i], rp.line[i]) == 0;
        }
        double md = median(td, runs), mp = median(tp, runs), ratio = md / (mp > 0 ? mp : 1e-3);
        bool is_rw = strcmp(status, "REWRITTEN") == 0;
        char what[400];
        if (is_rw) {
            snprintf(what, sizeof(what), "%s", view);
        } else {
            shorten(rshort, 90, reason);
            snprintf(what, sizeof(what), "%s (%s)", status, rshort);
        }
        printf("%-6s %10.2f %10.2f %9.2f  %-6zu %-5s  %s\n", q->name, md, mp, ratio, rd.n,
               equal ? "yes" : "NO", what);
        fflush(stdout);
        if (out) {
            fprintf(out, "%s\t%.2f\t%.2f\t%.2f\t%s\t%s\t%zu\t%s\t%s\n", q->name, md, mp, ratio,
                    status, view, rd.n, equal ? "yes" : "NO", reason);
        }
        if (!equal) {
            mismatches++;
            snprintf(mismatch_list + strlen(mismatch_list), sizeof(mismatch_list) - strlen(mismatch_list),
                     " %s", q->name);
            printf("!!!!!! %s: ROWS DIFFER: direct %zu rows, proxy %zu rows\n", q->name, rd.n, rp.n);
            int shown = 0;
            for (size_t i = 0; shown < 5 && (i < rd.n || i < rp.n); i++) {
                const char *a = i < rd.n ? rd.line[i] : "(none)";
                const char *b = i < rp.n ? rp.line[i] : "(none)";
                if (strcmp(a, b) != 0) {
                    printf("!!!!!!   direct: %.300s\n!!!!!!   proxy:  %.300s\n", a, b);
                    shown++;
                }
            }
        }
        if (ratio < 0.9) {
            slower++;
            snprintf(slow_list + strlen(slow_list), sizeof(slow_list) - strlen(slow_list), " %s(%.2f)",
                     q->name, ratio);
            /* Slower at the median of --runs: measure again with --confirm
             * runs per side (ABBA) to tell noise from a real slowdown. */
            if (confirm > 0) {
                double cd[100], cp[100];
                bool cok = true;
                for (int r = 0; cok && r < confirm; r++) {
                    if (r % 2 == 0) {
                        cok = run(d, q->name, "direct", q->sql, NULL, &cd[r]) == 0 &&
                              run(p, q->name, "proxy", q->sql, NULL, &cp[r]) == 0;
                    } else {
                        cok = run(p, q->name, "proxy", q->sql, NULL, &cp[r]) == 0 &&
                              run(d, q->name, "direct", q->sql, NULL, &cd[r]) == 0;
                    }
                }
                if (cok) {
                    double xd = median(cd, confirm), xp = median(cp, confirm);
                    double xr = xd / (xp > 0 ? xp : 1e-3);
                    printf("%-6s %10.2f %10.2f %9.2f  (re-measured: median of %d per side)\n", "", xd,
                           xp, xr, confirm);
                    if (out) {
                        fprintf(out, "%s (median of %d)\t%.2f\t%.2f\t%.2f\t%s\t%s\t%zu\t%s\t\n", q->name,
                                confirm, xd, xp, xr, status, view, rd.n, equal ? "yes" : "NO");
                    }
                    if (xr < 0.9) {
                        still_slower++;
                        snprintf(still_list + strlen(still_list),
                                 sizeof(still_list) - strlen(still_list), " %s(%.2f)", q->name, xr);
                    }
                }
            }
        }
        if (is_rw) {
            rewritten++;
            agg++;
            if (ratio >= 10) {
                agg10++;
            } else {
                snprintf(agg_slow_list + strlen(agg_slow_list),
                         sizeof(agg_slow_list) - strlen(agg_slow_list), " %s(%.1fx)", q->name, ratio);
            }
        }
        rows_free(&rd);
        rows_free(&rp);
    }
    printf("summary: %d queries answered from a view; %d of them >= 10x faster%s%s\n", agg, agg10,
           agg_slow_list[0] ? "; below 10x:" : "", agg_slow_list);
    printf("summary: %d slower through the proxy beyond noise (direct/proxy < 0.9)%s%s\n", slower,
           slow_list[0] ? ":" : "", slow_list);
    if (confirm > 0 && slower > 0) {
        printf("summary: %d of them still below 0.9 at the median of %d runs per side%s%s\n",
               still_slower, confirm, still_list[0] ? ":" : "", still_list);
    }
    if (mismatches > 0) {
        printf("!!!!!! summary: %d QUERIES RETURNED OTHER ROWS THROUGH THE PROXY:%s\n", mismatches,
               mismatch_list);
    } else {
        printf("summary: rows equal through the proxy for every query\n");
    }
    if (failed > 0) {
        printf("summary: %d queries FAILED\n", failed);
    }
    if (out) {
        fclose(out);
    }
    mysql_close(p);
    mysql_close(d);
    (void)rewritten;
    return failed || mismatches ? 1 : 0;
}
