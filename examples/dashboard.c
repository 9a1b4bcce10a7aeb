/*
 * dashboard.c - the sales dashboard of the demo (examples/dashboard.sql),
 * run directly against MariaDB and through mvproxy, side by side.
 *
 * For each query: a warm-up run and the median of K timed runs on each
 * connection, the view the proxy chose (the CHOSEN row of EXPLAIN REWRITE,
 * or "none" and the proxy's reason), and whether both connections returned
 * the same rows (as multisets: sorted text rows; FLOAT/DOUBLE columns
 * compared with a relative tolerance, everything else byte for byte). Then
 * the distinct-customer comparison: the exact COUNT(DISTINCT customer_id)
 * against the seed's summed customer_count.
 *
 *   dashboard [--direct HOST:PORT] [--proxy HOST:PORT] [--user U] [--password P]
 *             [--db DB] [--file dashboard.sql] [--runs K] [--verbose]
 *
 * --runs 0 compares the rows without timing anything.
 * Without --proxy (and without $MVP_PROXY_PORT) only the direct half runs.
 * Exit status: 0 when every query returned identical rows on both
 * connections, 1 when some rows differ or a query failed, 2 on a usage or
 * connection error.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mysql.h>

#include "mvp_client.h"

#define MAX_QUERIES 32
#define MAX_RUNS    101

struct query {
    char id[16];                /* "a", "b", ... ; "x..." = comparison only */
    char title[160];            /* human title from the -- query: line */
    char *sql;                  /* text with placeholders substituted (owned) */
};

/* A result set as text, rows sorted for multiset comparison. */
struct rs {
    unsigned ncols;             /* columns */
    size_t nrows;               /* rows */
    char **names;               /* ncols column names (owned) */
    bool *is_float;             /* ncols: FLOAT/DOUBLE column */
    char ***rows;               /* nrows rows of ncols cells; NULL cell = SQL NULL (owned) */
};

struct opts {
    struct endpoint direct;     /* MariaDB */
    struct endpoint proxy;      /* mvproxy; port 0 = direct only */
    const char *user;           /* login for both connections */
    const char *password;       /* its password ("" = none) */
    const char *db;             /* database of raw_sales */
    const char *file;           /* dashboard.sql */
    int runs;                   /* timed runs per connection (median) */
    bool verbose;               /* print the SQL the proxy sends */
};

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
die(int code, const char *fmt, const char *arg)
{
    fprintf(stderr, "dashboard: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(code);
}

static void *
xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);
    if (p == NULL) {
        die(2, "%s", "out of memory");
    }
    return p;
}

static char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

/* Connect to EP or exit(2) with the client library's message. */
static MYSQL *
connect_to(const struct endpoint *ep, const struct opts *o, const char *what)
{
    char err[300], msg[512];
    MYSQL *m = mvp_connect(ep, o->user, o->password, o->db, err, sizeof(err));
    if (m == NULL) {
        snprintf(msg, sizeof(msg), "cannot connect %s to %s", what, err);
        die(2, "%s", msg);
    }
    return m;
}

/* Replace every {NAME} of VARS (NAME=value pairs, NULL-terminated) in SQL. Returns a new string. */
static char *
substitute(const char *sql, const char *const *vars)
{
    size_t cap = strlen(sql) * 2 + 256, len = 0;
    char *out = xmalloc(cap);
    const char *p = sql;

    while (*p != '\0') {
        const char *val = NULL;
        size_t skip = 0;
        if (*p == '{') {
            for (size_t i = 0; vars[i] != NULL; i += 2) {
                size_t n = strlen(vars[i]);
                if (strncmp(p + 1, vars[i], n) == 0 && p[1 + n] == '}') {
                    val = vars[i + 1];
                    skip = n + 2;
                    break;
                }
            }
        }
        if (val == NULL) {
            val = p;
            skip = 1;
        }
        size_t vn = (val == p) ? 1 : strlen(val);
        if (len + vn + 1 > cap) {
            cap = (len + vn + 1) * 2;
            char *bigger = realloc(out, cap);
            if (bigger == NULL) {
                die(2, "%s", "out of memory");
            }
            out = bigger;
        }
        memcpy(out + len, val, vn);
        len += vn;
        p += skip;
    }
    out[len] = '\0';
    return out;
}

/*
 * Read the queries of PATH into Q (at most MAX_QUERIES), substituting VARS.
 * A query starts at a line "-- query: ID TITLE" and ends at a line ending
 * in ';'. Returns the count; exits on a read error.
 */
static int
load_queries(const char *path, const char *const *vars, struct query *q)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    char *buf = NULL;
    size_t cap = 0, len = 0;
    int n = 0;
    bool in = false;

    if (f == NULL) {
        die(2, "cannot open %s", path);
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "-- query: ", 10) == 0) {
            if (n == MAX_QUERIES) {
                break;
            }
            char *rest = line + 10;
            rest[strcspn(rest, "\r\n")] = '\0';
            size_t idn = strcspn(rest, " ");
            if (idn == 0 || idn >= sizeof(q[n].id)) {
                die(2, "bad query header in %s", path);
            }
            memcpy(q[n].id, rest, idn);
            q[n].id[idn] = '\0';
            snprintf(q[n].title, sizeof(q[n].title), "%s", rest[idn] != '\0' ? rest + idn + 1 : "");
            in = true;
            len = 0;
            continue;
        }
        if (!in) {
            continue;
        }
        const char *s = line;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (strncmp(s, "--", 2) == 0) {
            continue;
        }
        size_t ln = strlen(line);
        if (len + ln + 1 > cap) {
            cap = (len + ln + 1) * 2;
            char *bigger = realloc(buf, cap);
            if (bigger == NULL) {
                die(2, "%s", "out of memory");
            }
            buf = bigger;
        }
        memcpy(buf + len, line, ln + 1);
        len += ln;
        /* the statement ends at a line whose last non-blank char is ';' */
        size_t e = len;
        while (e > 0 && isspace((unsigned char)buf[e - 1])) {
            e--;
        }
        if (e > 0 && buf[e - 1] == ';') {
            buf[e - 1] = '\0';
            q[n].sql = substitute(buf, vars);
            n++;
            in = false;
        }
    }
    free(buf);
    fclose(f);
    return n;
}

static void
rs_free(struct rs *r)
{
    for (size_t i = 0; i < r->nrows; i++) {
        for (unsigned c = 0; c < r->ncols; c++) {
            free(r->rows[i][c]);
        }
        free(r->rows[i]);
    }
    for (unsigned c = 0; c < r->ncols; c++) {
        free(r->names[c]);
    }
    free(r->rows);
    free(r->names);
    free(r->is_float);
    memset(r, 0, sizeof(*r));
}

/*
 * Run SQL on M and, when OUT is not NULL, keep the rows in OUT (caller frees
 * with rs_free). Returns the wall time in ms (query + fetching every row),
 * or -1 with ERR (size ERRLEN) filled.
 */
static double
run_sql(MYSQL *m, const char *sql, struct rs *out, char *err, size_t errlen)
{
    double t0 = now_ms();
    MYSQL_RES *res;

    if (mysql_real_query(m, sql, strlen(sql)) != 0) {
        snprintf(err, errlen, "%u %s", mysql_errno(m), mysql_error(m));
        return -1;
    }
    res = mysql_store_result(m);
    double t = now_ms() - t0;
    if (res == NULL) {
        if (mysql_field_count(m) != 0) {
            snprintf(err, errlen, "%u %s", mysql_errno(m), mysql_error(m));
            return -1;
        }
        if (out != NULL) {
            memset(out, 0, sizeof(*out));
        }
        return t;
    }
    if (out != NULL) {
        MYSQL_FIELD *f = mysql_fetch_fields(res);
        MYSQL_ROW row;
        memset(out, 0, sizeof(*out));
        out->ncols = mysql_num_fields(res);
        out->nrows = (size_t)mysql_num_rows(res);
        out->names = xmalloc(out->ncols * sizeof(char *));
        out->is_float = xmalloc(out->ncols * sizeof(bool));
        for (unsigned c = 0; c < out->ncols; c++) {
            out->names[c] = xstrdup(f[c].name);
            out->is_float[c] = f[c].type == MYSQL_TYPE_FLOAT || f[c].type == MYSQL_TYPE_DOUBLE;
        }
        out->rows = xmalloc(out->nrows * sizeof(char **));
        for (size_t i = 0; (row = mysql_fetch_row(res)) != NULL; i++) {
            unsigned long *lens = mysql_fetch_lengths(res);
            out->rows[i] = xmalloc(out->ncols * sizeof(char *));
            for (unsigned c = 0; c < out->ncols; c++) {
                if (row[c] == NULL) {
                    out->rows[i][c] = NULL;
                } else {
                    out->rows[i][c] = xmalloc(lens[c] + 1);
                    memcpy(out->rows[i][c], row[c], lens[c]);
                    out->rows[i][c][lens[c]] = '\0';
                }
            }
        }
    }
    mysql_free_result(res);
    return t;
}

static const bool *sort_is_float; /* qsort context: the float columns */
static unsigned sort_ncols;

static int
cell_cmp(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return (a != NULL) - (b != NULL);
    }
    return strcmp(a, b);
}

/* Order rows by their exact (non-float) cells first, then float cells numerically. */
static int
row_cmp(const void *pa, const void *pb)
{
    char *const *a = *(char **const *)pa;
    char *const *b = *(char **const *)pb;
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned c = 0; c < sort_ncols; c++) {
            if (sort_is_float[c] != (pass == 1)) {
                continue;
            }
            int r;
            if (pass == 0 || a[c] == NULL || b[c] == NULL) {
                r = cell_cmp(a[c], b[c]);
            } else {
                double x = strtod(a[c], NULL), y = strtod(b[c], NULL);
                r = (x > y) - (x < y);
            }
            if (r != 0) {
                return r;
            }
        }
    }
    return 0;
}

static void
rs_sort(struct rs *r, const bool *is_float)
{
    sort_is_float = is_float;
    sort_ncols = r->ncols;
    qsort(r->rows, r->nrows, sizeof(char **), row_cmp);
}

static bool
float_close(const char *a, const char *b)
{
    double x = strtod(a, NULL), y = strtod(b, NULL);
    double scale = fmax(fabs(x), fabs(y));
    return fabs(x - y) <= 1e-9 * fmax(scale, 1.0);
}

/*
 * Compare A (direct) and B (proxy) as row multisets. A column is compared
 * with tolerance when either side typed it FLOAT/DOUBLE. Fills WHY
 * (size WHYLEN) with the first difference. Sorts both in place.
 */
static bool
rs_same(struct rs *a, struct rs *b, char *why, size_t whylen)
{
    if (a->ncols != b->ncols) {
        snprintf(why, whylen, "%u columns direct, %u through the proxy", a->ncols, b->ncols);
        return false;
    }
    if (a->nrows != b->nrows) {
        snprintf(why, whylen, "%zu rows direct, %zu through the proxy", a->nrows, b->nrows);
        return false;
    }
    bool *fl = xmalloc(a->ncols * sizeof(bool));
    for (unsigned c = 0; c < a->ncols; c++) {
        fl[c] = a->is_float[c] || b->is_float[c];
    }
    rs_sort(a, fl);
    rs_sort(b, fl);
    bool same = true;
    for (size_t i = 0; i < a->nrows && same; i++) {
        for (unsigned c = 0; c < a->ncols; c++) {
            const char *x = a->rows[i][c], *y = b->rows[i][c];
            bool eq = (x == NULL || y == NULL) ? x == y
                      : fl[c]                  ? float_close(x, y)
                                               : strcmp(x, y) == 0;
            if (!eq) {
                snprintf(why, whylen, "row %zu column %s: direct %s, proxy %s", i + 1,
                         a->names[c], x != NULL ? x : "NULL", y != NULL ? y : "NULL");
                same = false;
                break;
            }
        }
    }
    free(fl);
    return same;
}

static int
dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of K timed runs of SQL on M after one warm-up; -1 on error (ERR filled). */
static double
time_median(MYSQL *m, const char *sql, int k, char *err, size_t errlen)
{
    double t[MAX_RUNS];
    if (run_sql(m, sql, NULL, err, errlen) < 0) {
        return -1;
    }
    for (int i = 0; i < k; i++) {
        t[i] = run_sql(m, sql, NULL, err, errlen);
        if (t[i] < 0) {
            return -1;
        }
    }
    qsort(t, (size_t)k, sizeof(double), dbl_cmp);
    return k % 2 == 1 ? t[k / 2] : (t[k / 2 - 1] + t[k / 2]) / 2;
}

/* Index of column NAME in R, or -1. */
static int
col_index(const struct rs *r, const char *name)
{
    for (unsigned c = 0; c < r->ncols; c++) {
        if (strcasecmp(r->names[c], name) == 0) {
            return (int)c;
        }
    }
    return -1;
}

/*
 * EXPLAIN REWRITE SQL through the proxy: the CHOSEN view(s) ("db.view",
 * comma-separated) into VIEW, or "none: <summary reason>"; the statement
 * the proxy would send into SENT (owned by the caller, may be NULL).
 */
static void
explain_rewrite(MYSQL *px, const char *sql, char *view, size_t viewlen, char **sent)
{
    size_t n = strlen(sql) + 32;
    char *q = xmalloc(n);
    char err[512];
    struct rs r;

    *sent = NULL;
    snprintf(q, n, "EXPLAIN REWRITE %s", sql);
    if (run_sql(px, q, &r, err, sizeof(err)) < 0) {
        snprintf(view, viewlen, "? (EXPLAIN REWRITE failed: %.400s)", err);
        free(q);
        return;
    }
    free(q);
    int cn = col_index(&r, "mv_name"), cs = col_index(&r, "status"),
        cr = col_index(&r, "reason"), cq = col_index(&r, "sql");
    if (cn < 0 || cs < 0) {
        snprintf(view, viewlen, "? (EXPLAIN REWRITE has no mv_name/status columns)");
        rs_free(&r);
        return;
    }
    view[0] = '\0';
    const char *summary_reason = NULL;
    for (size_t i = 0; i < r.nrows; i++) {
        const char *st = r.rows[i][cs] != NULL ? r.rows[i][cs] : "";
        if (strcmp(st, "CHOSEN") == 0 && r.rows[i][cn] != NULL) {
            size_t l = strlen(view);
            snprintf(view + l, viewlen - l, "%s%s", l > 0 ? "," : "", r.rows[i][cn]);
        } else if (r.rows[i][cn] == NULL) {
            summary_reason = cr >= 0 ? r.rows[i][cr] : NULL;
            if (cq >= 0 && r.rows[i][cq] != NULL) {
                *sent = xstrdup(r.rows[i][cq]);
            }
        }
    }
    if (view[0] == '\0') {
        bool have = summary_reason != NULL && summary_reason[0] != '\0';
        snprintf(view, viewlen, "none: %s", have ? summary_reason : "no view matched");
    }
    rs_free(&r);
}

/* MS as text into BUF (size >= 32), or "-" when nothing was timed (RUNS 0). */
static const char *
ms_text(double ms, int runs, char *buf)
{
    if (runs == 0) {
        return "-";
    }
    snprintf(buf, 32, "%.2f", ms);
    return buf;
}

/* Collapse every run of white space in S to one blank, in place; returns S. */
static char *
squeeze(char *s)
{
    char *w = s;
    bool blank = false;
    for (const char *r = s; *r != '\0'; r++) {
        if (isspace((unsigned char)*r)) {
            blank = w != s;
            continue;
        }
        if (blank) {
            *w++ = ' ';
            blank = false;
        }
        *w++ = *r;
    }
    *w = '\0';
    return s;
}

/* First cell of the first row of SQL on M as a number; NAN when absent. */
static double
scalar(MYSQL *m, const char *sql)
{
    char err[512];
    struct rs r;
    double v = NAN;
    if (sql == NULL || run_sql(m, sql, &r, err, sizeof(err)) < 0) {
        return NAN;
    }
    if (r.nrows > 0 && r.ncols > 0 && r.rows[0][0] != NULL) {
        v = strtod(r.rows[0][0], NULL);
    }
    rs_free(&r);
    return v;
}

static const struct query *
find_query(const struct query *q, int n, const char *id)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(q[i].id, id) == 0) {
            return &q[i];
        }
    }
    return NULL;
}

/* The customers column of query A (today's overview) on M. */
static double
todays_customers(MYSQL *m, const struct query *a)
{
    char err[512];
    struct rs r;
    double v = NAN;
    if (a == NULL || run_sql(m, a->sql, &r, err, sizeof(err)) < 0) {
        return NAN;
    }
    int c = col_index(&r, "customers");
    if (c >= 0 && r.nrows > 0 && r.rows[0][c] != NULL) {
        v = strtod(r.rows[0][c], NULL);
    }
    rs_free(&r);
    return v;
}

static void
print_customer_row(const char *label, double exact, double seed)
{
    if (isnan(exact) || isnan(seed)) {
        printf("  %-14s %22s %26s\n", label, isnan(exact) ? "n/a" : "", "n/a (no ADS view yet)");
        return;
    }
    char pct[32];
    snprintf(pct, sizeof(pct), "(%+.1f%%)", exact > 0 ? (seed - exact) * 100.0 / exact : 0.0);
    printf("  %-14s %22.0f %17.0f %-9s\n", label, exact, seed, pct);
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: dashboard [--direct HOST:PORT] [--proxy HOST:PORT] [--user U] [--password P]\n"
            "                 [--db DB] [--file dashboard.sql] [--runs K] [--verbose]\n"
            "defaults from $MVP_DB_HOST/$MVP_DB_PORT (direct) and $MVP_PROXY_PORT (proxy)\n");
    exit(2);
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
    const char *env;
    char buf[300];

    memset(o, 0, sizeof(*o));
    o->user = getenv("MVP_DB_USER") != NULL ? getenv("MVP_DB_USER") : "root";
    o->password = getenv("MVP_DB_PASSWORD") != NULL ? getenv("MVP_DB_PASSWORD") : "";
    o->db = "sales_demo";
    o->file = "examples/dashboard.sql";
    o->runs = 5;
    snprintf(buf, sizeof(buf), "%s:%s", getenv("MVP_DB_HOST") ? getenv("MVP_DB_HOST") : "127.0.0.1",
             getenv("MVP_DB_PORT") ? getenv("MVP_DB_PORT") : "3306");
    parse_endpoint(buf, &o->direct);
    if ((env = getenv("MVP_PROXY_PORT")) != NULL && env[0] != '\0') {
        if (!parse_endpoint(env, &o->proxy)) {
            die(2, "bad MVP_PROXY_PORT %s", env);
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            o->verbose = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || v == NULL) {
            usage();
        }
        i++;
        if (strcmp(a, "--direct") == 0) {
            if (!parse_endpoint(v, &o->direct)) {
                die(2, "bad --direct %s", v);
            }
        } else if (strcmp(a, "--proxy") == 0) {
            if (!parse_endpoint(v, &o->proxy)) {
                die(2, "bad --proxy %s", v);
            }
        } else if (strcmp(a, "--user") == 0) {
            o->user = v;
        } else if (strcmp(a, "--password") == 0) {
            o->password = v;
        } else if (strcmp(a, "--db") == 0) {
            o->db = v;
        } else if (strcmp(a, "--file") == 0) {
            o->file = v;
        } else if (strcmp(a, "--runs") == 0) {
            o->runs = atoi(v);
            if (o->runs < 0 || o->runs > MAX_RUNS) {
                die(2, "--runs wants 0..101 (0: compare rows only), got %s", v);
            }
        } else {
            usage();
        }
    }
}

int
main(int argc, char **argv)
{
    struct opts o;
    struct query q[MAX_QUERIES];
    char err[1024], why[512], view[512];
    struct rs dates;
    int failures = 0;

    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows through a pipe too */
    parse_args(argc, argv, &o);
    MYSQL *direct = connect_to(&o.direct, &o, "directly");
    MYSQL *proxy = o.proxy.port != 0 ? connect_to(&o.proxy, &o, "through the proxy") : NULL;

    /* "today" is the server's: the generator used the server's CURDATE() too */
    if (run_sql(direct,
                "SELECT CURDATE(), CURDATE() + INTERVAL 1 DAY,"
                " DATE_FORMAT(CURDATE() - INTERVAL 1 MONTH, '%Y-%m-01'),"
                " DATE_FORMAT(CURDATE(), '%Y-%m-01'), CURDATE() - INTERVAL 29 DAY,"
                " (SELECT TABLE_ROWS FROM information_schema.TABLES"
                "   WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'raw_sales')",
                &dates, err, sizeof(err)) < 0 || dates.nrows != 1) {
        die(2, "cannot read the server's date: %s", err);
    }
    char *const *d = dates.rows[0];
    const char *vars[] = {"today", d[0], "tomorrow", d[1], "last_month_start", d[2],
                          "this_month_start", d[3], "trend_start", d[4], NULL};
    int nq = load_queries(o.file, vars, q);
    if (nq == 0) {
        die(2, "no queries in %s", o.file);
    }

    printf("Dashboard over %s.raw_sales (~%s rows), today = %s; ", o.db,
           d[5] != NULL ? d[5] : "?", d[0]);
    if (o.runs > 0) {
        printf("times: median of %d runs after a warm-up\n", o.runs);
    } else {
        printf("rows only, not timed\n");
    }
    printf("%-46s %10s %10s %8s  %-32s %s\n", "query", "direct ms", "proxy ms", "speedup",
           "view (EXPLAIN REWRITE)", "rows identical");

    for (int i = 0; i < nq; i++) {
        if (q[i].id[0] == 'x') {
            continue;
        }
        char label[64], tds[32], tps[32];
        snprintf(label, sizeof(label), "%.8s %.54s", q[i].id, q[i].title);
        double td = o.runs > 0 ? time_median(direct, q[i].sql, o.runs, err, sizeof(err)) : 0;
        if (td < 0) {
            printf("%-46.46s direct query failed: %s\n", label, err);
            failures++;
            continue;
        }
        if (proxy == NULL) {
            printf("%-46.46s %10s %10s %8s  %-32s %s\n", label, ms_text(td, o.runs, tds), "-", "-",
                   "-", "-");
            continue;
        }
        char *sent = NULL;
        explain_rewrite(proxy, q[i].sql, view, sizeof(view), &sent);
        double tp = o.runs > 0 ? time_median(proxy, q[i].sql, o.runs, err, sizeof(err)) : 0;
        if (tp < 0) {
            printf("%-46.46s %10s proxy query failed: %s\n", label, ms_text(td, o.runs, tds), err);
            failures++;
            free(sent);
            continue;
        }
        struct rs ra, rb;
        char e1[512], e2[512];
        bool ok = false;
        if (run_sql(direct, q[i].sql, &ra, e1, sizeof(e1)) >= 0) {
            if (run_sql(proxy, q[i].sql, &rb, e2, sizeof(e2)) >= 0) {
                ok = rs_same(&ra, &rb, why, sizeof(why));
                for (unsigned c = 0; ok && c < ra.ncols; c++) {
                    if (strcmp(ra.names[c], rb.names[c]) != 0) {
                        printf("  note: column %u is named %s direct, %s through the proxy\n",
                               c + 1, ra.names[c], rb.names[c]);
                    }
                }
                char yes[64];
                snprintf(yes, sizeof(yes), "yes (%zu row%s)", ra.nrows, ra.nrows == 1 ? "" : "s");
                char sp[32];
                snprintf(sp, sizeof(sp), "%.1fx", tp > 0 ? td / tp : 0.0);
                printf("%-46.46s %10s %10s %8s  %-32s %s\n", label, ms_text(td, o.runs, tds),
                       ms_text(tp, o.runs, tps), o.runs > 0 ? sp : "-", view, ok ? yes : "NO");
                if (!ok) {
                    printf("  difference: %s\n", why);
                }
                rs_free(&rb);
            } else {
                printf("%-46.46s proxy query failed: %s\n", label, e2);
            }
            rs_free(&ra);
        } else {
            printf("%-46.46s direct query failed: %s\n", label, e1);
        }
        if (!ok) {
            failures++;
        }
        if (o.verbose && sent != NULL && strncmp(view, "none", 4) != 0) {
            printf("  sent to MariaDB: %s\n", squeeze(sent));
        }
        free(sent);
    }

    /* The seed's customer_count, summed, is not a distinct-customer count. */
    MYSQL *m = proxy != NULL ? proxy : direct;
    const struct query *qa = find_query(q, nq, "a"), *qe = find_query(q, nq, "e"),
                       *x1 = find_query(q, nq, "x1"), *x2 = find_query(q, nq, "x2");
    printf("\nDistinct customers: exact COUNT(DISTINCT customer_id) vs the seed's "
           "SUM(customer_count)\n");
    printf("  %-14s %22s %17s\n", "period", "exact (queries a, e)", "seed's ADS");
    print_customer_row("today", todays_customers(m, qa), scalar(m, x1 ? x1->sql : NULL));
    print_customer_row("last 30 days", scalar(m, qe ? qe->sql : NULL),
                       scalar(m, x2 ? x2->sql : NULL));
    printf("  The seed's DWD counts each customer once per (day, region, category, product),\n"
           "  and the DWS/ADS add those counts up: a customer who bought two products that day,\n"
           "  or on two days of the period, is counted twice. The proxy answers COUNT(DISTINCT\n"
           "  customer_id) from mv_dwd_sales, where customer_id is a grouping column, never from\n"
           "  a sum of counts.\n");

    for (int i = 0; i < nq; i++) {
        free(q[i].sql);
    }
    rs_free(&dates);
    mysql_close(direct);
    if (proxy != NULL) {
        mysql_close(proxy);
    }
    if (failures > 0) {
        printf("\ndashboard: %d quer%s failed or differed\n", failures,
               failures == 1 ? "y" : "ies");
        return 1;
    }
    return 0;
}
