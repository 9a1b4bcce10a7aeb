/*
 * tc_common.h - helpers shared by the conformance runner (tests/conformance/
 * conformance.c) and the case-table runner (tests/cases/cases.c): MariaDB
 * connections with timeouts, result sets as sortable text rows, row-multiset
 * comparison, EXPLAIN REWRITE parsing, and an mvproxy child process.
 *
 * Header-only (static functions) because CMake builds each runner from one
 * .c file plus tests/integration/it_common.c; the names carry a tc_ prefix
 * so they cannot collide with it_common's.
 */
#ifndef TC_COMMON_H
#define TC_COMMON_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#define TC_ERRLEN 1024

/* A whole result set as text. rows[r][c] is NULL for SQL NULL. */
struct tc_res {
    int ncols;                      /* columns */
    char **names;                   /* column names (owned) */
    enum enum_field_types *types;   /* field types (owned) */
    long nrows;                     /* rows */
    char ***rows;                   /* rows[r][c], owned, NULL for SQL NULL */
    unsigned err;                   /* backend error number, 0 on success */
    char errmsg[TC_ERRLEN];         /* backend error text */
};

static inline double
tc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline char *
tc_strdup(const char *s)
{
    return s == NULL ? NULL : strdup(s);
}

/* printf into a malloc'd string; caller frees. */
static inline char *
tc_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/*
 * snprintf into a fixed-size text field of a generator, where cutting an
 * over-long fragment at SIZE - 1 bytes is accepted (a cut query fails alike
 * directly and through the proxy). Returns true when the text was cut.
 * Going through vsnprintf keeps -Wformat-truncation quiet on purpose.
 */
__attribute__((format(printf, 3, 4))) static inline bool
tc_fmt_cut(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n >= size;
}

/*
 * Connect to HOST:PORT as USER/PASS with database DB (may be NULL); every
 * read and write times out after TIMEOUT_S seconds so a hung statement
 * cannot hang the run. Returns NULL and fills ERR (TC_ERRLEN) on failure.
 */
static inline MYSQL *
tc_connect(const char *host, int port, const char *user, const char *pass, const char *db,
           unsigned timeout_s, char *err)
{
    MYSQL *m = mysql_init(NULL);
    if (m == NULL) {
        snprintf(err, TC_ERRLEN, "mysql_init failed");
        return NULL;
    }
    unsigned ct = 10;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout_s);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout_s);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (mysql_real_connect(m, host, user, pass, db, (unsigned)port, NULL, 0) == NULL) {
        snprintf(err, TC_ERRLEN, "connect %s:%d: %s", host, port, mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

static inline void
tc_res_free(struct tc_res *r)
{
    for (long i = 0; i < r->nrows; i++) {
        for (int c = 0; c < r->ncols; c++) {
            free(r->rows[i][c]);
        }
        free(r->rows[i]);
    }
    free(r->rows);
    for (int c = 0; c < r->ncols; c++) {
        free(r->names[c]);
    }
    free(r->names);
    free(r->types);
    memset(r, 0, sizeof(*r));
}

/*
 * Run SQL on M and store its (first) result set in R (caller frees with
 * tc_res_free; R is zeroed first). Further result sets are drained.
 * Returns 0, or -1 with R->err/R->errmsg set (err 2013/2006 = connection
 * lost or timed out).
 */
static inline int
tc_query(MYSQL *m, const char *sql, struct tc_res *r)
{
    memset(r, 0, sizeof(*r));
    if (mysql_real_query(m, sql, strlen(sql)) != 0) {
        r->err = mysql_errno(m);
        snprintf(r->errmsg, TC_ERRLEN, "%s", mysql_error(m));
        return -1;
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (res == NULL && mysql_field_count(m) != 0) {
        r->err = mysql_errno(m);
        snprintf(r->errmsg, TC_ERRLEN, "%s", mysql_error(m));
        return -1;
    }
    if (res != NULL) {
        r->ncols = (int)mysql_num_fields(res);
        MYSQL_FIELD *f = mysql_fetch_fields(res);
        r->names = calloc((size_t)r->ncols + 1, sizeof(char *));
        r->types = calloc((size_t)r->ncols + 1, sizeof(*r->types));
        for (int c = 0; c < r->ncols; c++) {
            r->names[c] = strdup(f[c].name);
            r->types[c] = f[c].type;
        }
        long n = (long)mysql_num_rows(res);
        r->rows = calloc((size_t)n + 1, sizeof(char **));
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(res)) != NULL) {
            unsigned long *len = mysql_fetch_lengths(res);
            char **out = calloc((size_t)r->ncols + 1, sizeof(char *));
            for (int c = 0; c < r->ncols; c++) {
                if (row[c] != NULL) {
                    out[c] = malloc(len[c] + 1);
                    memcpy(out[c], row[c], len[c]);
                    out[c][len[c]] = '\0';
                }
            }
            r->rows[r->nrows++] = out;
        }
        mysql_free_result(res);
    }
    while (mysql_next_result(m) == 0) {
        MYSQL_RES *x = mysql_store_result(m);
        if (x != NULL) {
            mysql_free_result(x);
        }
    }
    return 0;
}

/* Run SQL, discard any result. Returns 0 or -1 with ERR (TC_ERRLEN) filled. */
static inline int
tc_exec(MYSQL *m, const char *sql, char *err)
{
    struct tc_res r;
    int rc = tc_query(m, sql, &r);
    if (rc != 0 && err != NULL) {
        snprintf(err, TC_ERRLEN, "%u: %.900s", r.err, r.errmsg);
    }
    tc_res_free(&r);
    return rc;
}

static inline bool
tc_is_float_type(enum enum_field_types t)
{
    return t == MYSQL_TYPE_FLOAT || t == MYSQL_TYPE_DOUBLE;
}

/* One row's sort key; float columns (per FLOATCOL) are rounded so that rows
 * that differ only in float noise sort to the same place. */
static inline char *
row_key(char **row, int ncols, const bool *floatcol)
{
    size_t cap = 64, len = 0;
    char *k = malloc(cap);
    for (int c = 0; c < ncols; c++) {
        char buf[64];
        const char *v;
        if (row[c] == NULL) {
            v = "\x01N";
        } else if (floatcol[c]) {
            snprintf(buf, sizeof(buf), "v%.6g", strtod(row[c], NULL));
            v = buf;
        } else {
            v = NULL;
        }
        size_t need = (v != NULL ? strlen(v) : strlen(row[c]) + 1) + 2;
        while (len + need + 1 > cap) {
            cap *= 2;
            k = realloc(k, cap);
        }
        if (v != NULL) {
            memcpy(k + len, v, strlen(v));
            len += strlen(v);
        } else {
            k[len++] = 'v';
            memcpy(k + len, row[c], strlen(row[c]));
            len += strlen(row[c]);
        }
        k[len++] = '\x1f';
    }
    k[len] = '\0';
    return k;
}

struct keyed_row {
    char *key;
    char **row;
};

static inline int
keyed_cmp(const void *a, const void *b)
{
    return strcmp(((const struct keyed_row *)a)->key, ((const struct keyed_row *)b)->key);
}

/* Per-column "is FLOAT/DOUBLE" flags of R's columns (calloc'd, ncols + 1
 * entries; the caller frees). */
static inline bool *
tc_float_cols(const struct tc_res *r)
{
    bool *fl = calloc((size_t)r->ncols + 1, sizeof(bool));
    for (int c = 0; c < r->ncols; c++) {
        fl[c] = tc_is_float_type(r->types[c]);
    }
    return fl;
}

/* R's rows with their row_key() sort keys (per FLOATCOL), sorted by key;
 * LOWER lower-cases the keys (comparisons that ignore letter case). The
 * rows are borrowed from R; free with tc_keyed_free(K, R->nrows). */
static inline struct keyed_row *
tc_keyed_sorted(const struct tc_res *r, const bool *floatcol, bool lower)
{
    struct keyed_row *k = calloc((size_t)r->nrows + 1, sizeof(*k));
    for (long i = 0; i < r->nrows; i++) {
        k[i].row = r->rows[i];
        k[i].key = row_key(r->rows[i], r->ncols, floatcol);
        for (char *p = k[i].key; lower && *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
    }
    qsort(k, (size_t)r->nrows, sizeof(*k), keyed_cmp);
    return k;
}

static inline void
tc_keyed_free(struct keyed_row *k, long n)
{
    for (long i = 0; i < n; i++) {
        free(k[i].key);
    }
    free(k);
}

static inline bool
float_equal(const char *a, const char *b)
{
    if (strcmp(a, b) == 0) {
        return true;
    }
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (*ea != '\0' || *eb != '\0') {
        return false;
    }
    double scale = fmax(1.0, fmax(fabs(x), fabs(y)));
    return fabs(x - y) <= 1e-6 * scale;
}

static inline void
append_row(char *buf, size_t cap, const char *label, char **row, int ncols)
{
    size_t l = strlen(buf);
    snprintf(buf + l, cap - l, "%s(", label);
    for (int c = 0; c < ncols; c++) {
        l = strlen(buf);
        snprintf(buf + l, cap - l, "%s%s", c ? ", " : "", row[c] == NULL ? "NULL" : row[c]);
    }
    l = strlen(buf);
    snprintf(buf + l, cap - l, ") ");
}

/*
 * Compare WANT (the truth, usually the direct run) with GOT (the proxy run)
 * as row multisets: sorted text rows, NULL distinct from every string,
 * relative tolerance 1e-6 only in columns that WANT types FLOAT/DOUBLE.
 * CHECK_NAMES also compares the column names. Returns 0 when equal, 1 when
 * the rows differ, 2 when only the column names differ; DIFF (DIFFLEN) gets
 * a short description.
 */
static inline int
tc_res_compare(const struct tc_res *want, const struct tc_res *got, bool check_names, char *diff,
               size_t difflen)
{
    diff[0] = '\0';
    if (want->err != 0 || got->err != 0) {
        if (want->err == got->err) {
            return 0;
        }
        snprintf(diff, difflen, "error differs: want %u (%.200s) got %u (%.200s)", want->err,
                 want->errmsg, got->err, got->errmsg);
        return 1;
    }
    if (want->ncols != got->ncols) {
        snprintf(diff, difflen, "column count differs: want %d got %d", want->ncols, got->ncols);
        return 1;
    }
    if (want->nrows != got->nrows) {
        snprintf(diff, difflen, "row count differs: want %ld got %ld; ", want->nrows, got->nrows);
    }
    int nc = want->ncols;
    bool *fl = tc_float_cols(want);
    struct keyed_row *a = tc_keyed_sorted(want, fl, false);
    struct keyed_row *b = tc_keyed_sorted(got, fl, false);
    int rc = want->nrows != got->nrows ? 1 : 0;
    long n = want->nrows < got->nrows ? want->nrows : got->nrows;
    for (long i = 0; i < n && rc == 0; i++) {
        for (int c = 0; c < nc; c++) {
            const char *x = a[i].row[c], *y = b[i].row[c];
            bool eq;
            if (x == NULL || y == NULL) {
                eq = x == y;
            } else if (fl[c]) {
                eq = float_equal(x, y);
            } else {
                eq = strcmp(x, y) == 0;
            }
            if (!eq) {
                snprintf(diff, difflen, "sorted row %ld differs: ", i);
                append_row(diff, difflen, "want", a[i].row, nc);
                append_row(diff, difflen, "got", b[i].row, nc);
                rc = 1;
                break;
            }
        }
    }
    if (rc != 0 && want->nrows != got->nrows) {
        /* show the first row present on one side only */
        long i = 0, j = 0;
        while (i < want->nrows && j < got->nrows && strcmp(a[i].key, b[j].key) == 0) {
            i++;
            j++;
        }
        if (i < want->nrows) {
            append_row(diff, difflen, "first want-only", a[i].row, nc);
        } else if (j < got->nrows) {
            append_row(diff, difflen, "first got-only", b[j].row, nc);
        }
    }
    tc_keyed_free(a, want->nrows);
    tc_keyed_free(b, got->nrows);
    free(fl);
    if (rc == 0 && check_names) {
        for (int c = 0; c < nc; c++) {
            if (strcmp(want->names[c], got->names[c]) != 0) {
                snprintf(diff, difflen, "column %d name differs: want `%s` got `%s`", c + 1,
                         want->names[c], got->names[c]);
                return 2;
            }
        }
    }
    return rc;
}

/* What EXPLAIN REWRITE said (SPEC §8). */
struct tc_explain {
    bool ok;                        /* the statement answered a result set */
    bool rewritten;                 /* summary row status REWRITTEN */
    char chosen[256];               /* db.view of the CHOSEN row, or "" */
    char *sql;                      /* summary row's final statement (owned) */
    char *detail;                   /* all candidate rows, one per line (owned) */
    char err[TC_ERRLEN];            /* error when !ok */
};

static inline void
tc_explain_free(struct tc_explain *e)
{
    free(e->sql);
    free(e->detail);
    memset(e, 0, sizeof(*e));
}

static inline int
col_index(const struct tc_res *r, const char *name)
{
    for (int c = 0; c < r->ncols; c++) {
        if (strcasecmp(r->names[c], name) == 0) {
            return c;
        }
    }
    return -1;
}

/* Run EXPLAIN REWRITE QUERY on PROXY and fill E (caller frees). Returns 0 or -1. */
static inline int
tc_explain(MYSQL *proxy, const char *query, struct tc_explain *e)
{
    memset(e, 0, sizeof(*e));
    char *sql = tc_fmt("EXPLAIN REWRITE %s", query);
    struct tc_res r;
    int rc = tc_query(proxy, sql, &r);
    free(sql);
    if (rc != 0) {
        snprintf(e->err, TC_ERRLEN, "%u: %.900s", r.err, r.errmsg);
        tc_res_free(&r);
        return -1;
    }
    int cn = col_index(&r, "mv_name"), cs = col_index(&r, "status");
    int cr = col_index(&r, "reason"), csql = col_index(&r, "sql");
    int cst = col_index(&r, "stale_partitions");
    if (cn < 0 || cs < 0) {
        snprintf(e->err, TC_ERRLEN, "EXPLAIN REWRITE answered no mv_name/status columns");
        tc_res_free(&r);
        return -1;
    }
    e->ok = true;
    size_t cap = 256, len = 0;
    e->detail = calloc(cap, 1);
    for (long i = 0; i < r.nrows; i++) {
        char **row = r.rows[i];
        const char *st = row[cs] != NULL ? row[cs] : "";
        if (strcasecmp(st, "REWRITTEN") == 0) {
            e->rewritten = true;
        }
        if (strcasecmp(st, "CHOSEN") == 0 && row[cn] != NULL) {
            snprintf(e->chosen, sizeof(e->chosen), "%s", row[cn]);
        }
        if (row[cn] == NULL && csql >= 0 && row[csql] != NULL) {
            free(e->sql);
            e->sql = strdup(row[csql]);
        }
        char *line = tc_fmt("%s %s%s%s%s%s\n", row[cn] != NULL ? row[cn] : "(summary)", st,
                            cr >= 0 && row[cr] != NULL && row[cr][0] ? " reason=" : "",
                            cr >= 0 && row[cr] != NULL ? row[cr] : "",
                            cst >= 0 && row[cst] != NULL && row[cst][0] ? " stale=" : "",
                            cst >= 0 && row[cst] != NULL ? row[cst] : "");
        size_t ll = strlen(line);
        while (len + ll + 1 > cap) {
            cap *= 2;
            e->detail = realloc(e->detail, cap);
        }
        memcpy(e->detail + len, line, ll + 1);
        len += ll;
        free(line);
    }
    tc_res_free(&r);
    return 0;
}

/* Does CHOSEN ("db.view" or "view") name view NAME? */
static inline bool
tc_chosen_is(const char *chosen, const char *name)
{
    const char *dot = strrchr(chosen, '.');
    const char *base = dot != NULL ? dot + 1 : chosen;
    if (base[0] == '`') {
        base++;
    }
    size_t n = strlen(name);
    return strncasecmp(base, name, n) == 0 && (base[n] == '\0' || base[n] == '`');
}

/* A free TCP port on 127.0.0.1 (racy, good enough for tests). */
static inline int
tc_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t l = sizeof(a);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &l) != 0) {
        if (s >= 0) {
            close(s);
        }
        return 20000 + (int)(getpid() % 20000);
    }
    int port = ntohs(a.sin_port);
    close(s);
    return port;
}

/* An mvproxy child process. */
struct tc_proxy {
    pid_t pid;                      /* child pid, 0 when not ours (external) */
    int port;                       /* listen port */
    bool dead;                      /* we saw it exit */
    int status;                     /* wait status once dead */
};

/*
 * Start BIN listening on a free port against the backend DBHOST:DBPORT with
 * metadata schema META; stderr goes to LOGPATH (appended). Waits until the
 * port accepts a MySQL login as USER/PASS (up to 30 s). Returns 0, or -1
 * with ERR filled (the child is killed).
 */
static inline int
tc_proxy_start(struct tc_proxy *p, const char *bin, const char *dbhost, int dbport,
               const char *meta, const char *logpath, const char *user, const char *pass,
               char *err)
{
    memset(p, 0, sizeof(*p));
    p->port = tc_free_port();
    char listen[64], backend[300];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", p->port);
    snprintf(backend, sizeof(backend), "%s:%d", dbhost, dbport);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, TC_ERRLEN, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
            close(fd);
        }
        execl(bin, bin, "--listen", listen, "--backend", backend, "--service-user", "mvproxy",
              "--service-password", "mvproxy", "--meta-schema", meta, "--threads", "2",
              "--log-level", "warn", (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    p->pid = pid;
    double t0 = tc_now();
    while (tc_now() - t0 < 30.0) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            p->dead = true;
            p->status = st;
            snprintf(err, TC_ERRLEN, "mvproxy exited at start (status %d), see %s", st, logpath);
            return -1;
        }
        char e2[TC_ERRLEN];
        MYSQL *m = tc_connect("127.0.0.1", p->port, user, pass, NULL, 10, e2);
        if (m != NULL) {
            mysql_close(m);
            return 0;
        }
        usleep(100 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    p->dead = true;
    snprintf(err, TC_ERRLEN, "mvproxy did not accept a login within 30 s, see %s", logpath);
    return -1;
}

/* Is our proxy child still running? Reaps it when it has exited. */
static inline bool
tc_proxy_alive(struct tc_proxy *p)
{
    if (p->pid == 0) {
        return true;
    }
    if (p->dead) {
        return false;
    }
    int st;
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
        p->dead = true;
        p->status = st;
        return false;
    }
    return true;
}

/* Stop our proxy child: SIGTERM, then SIGKILL after 10 s. Returns true when
 * it was still alive and stopped cleanly (exit status 0 or SIGTERM). */
static inline bool
tc_proxy_stop(struct tc_proxy *p)
{
    if (p->pid == 0 || p->dead) {
        return false;
    }
    kill(p->pid, SIGTERM);
    double t0 = tc_now();
    int st = 0;
    while (tc_now() - t0 < 10.0) {
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->dead = true;
            p->status = st;
            return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
                   (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
        }
        usleep(50 * 1000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &st, 0);
    p->dead = true;
    p->status = st;
    return false;
}

/* Describe a wait status. */
static inline void
tc_describe_status(int st, char *buf, size_t len)
{
    if (WIFSIGNALED(st)) {
        snprintf(buf, len, "killed by signal %d", WTERMSIG(st));
    } else if (WIFEXITED(st)) {
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
    } else {
        snprintf(buf, len, "status %d", st);
    }
}

/* Getenv with a default. */
static inline const char *
tc_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : dflt;
}

/* Read a whole file into a malloc'd NUL-terminated buffer, or NULL. */
static inline char *
tc_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

#endif /* TC_COMMON_H */
