/*
 * cases.c - the rewrite case table runner. Reads the tests/cases .case files (format
 * in tests/cases/README.md), and for each case: a fresh database, fixtures,
 * schema and data directly on MariaDB, views and after-statements through
 * mvproxy, EXPLAIN REWRITE, then the query through the proxy vs directly
 * (or vs a -- reference: query). A case passes when the rewrite expectation
 * holds AND the rows (and column names) are equal.
 *
 *   parse all files ─> for each case: setup ─> views ─> after ─> EXPLAIN
 *                      ─> rows proxy vs direct ─> PASS / FAIL / KNOWN-GAP
 *
 * Prints "N passed, N failed, N known-gap"; exits non-zero on any failure
 * (a known gap whose rows are equal is not a failure; wrong rows always are).
 */
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>

#include "tc_common.h"

enum expect_kind {
    EXP_REWRITE,                    /* summary REWRITTEN (optionally by a given view) */
    EXP_NO_REWRITE,                 /* summary NOT_REWRITTEN */
    EXP_ANY,                        /* either; only the rows (and forbid:) count */
};

enum block_kind {
    BLK_SCHEMA,                     /* direct, before the views */
    BLK_DATA,                       /* direct, before the views */
    BLK_VIEW,                       /* CREATE MATERIALIZED VIEW through the proxy */
    BLK_CREATE,                     /* raw statements through the proxy */
    BLK_AFTER,                      /* statements through the proxy */
    BLK_DIRECT,                     /* statements directly (bypassing the proxy) */
    BLK_SLEEP,                      /* sleep N seconds */
};

struct block {
    enum block_kind kind;           /* what to do */
    char *name;                     /* view name (BLK_VIEW) */
    char *clauses;                  /* view clauses between the name and AS (BLK_VIEW) */
    char *text;                     /* SQL text */
};

struct tcase {
    char *name;                     /* -- case: */
    char *file;                     /* where it is defined */
    int line;                       /* line of -- case: */
    enum expect_kind expect;        /* -- expect: */
    char *expect_view;              /* view the rewrite must choose, or NULL */
    char *forbid;                   /* space list of views that must not be chosen */
    char *why;                      /* -- why: */
    char *gap;                      /* -- status: known-gap <reason>, or NULL */
    char *sql_contains;             /* -- sql-contains: */
    char *fixtures;                 /* -- fixture: names (space list) */
    struct block *blocks;           /* in file order */
    int nblocks;                    /* entries */
    char *query;                    /* -- query: */
    char *reference;                /* -- reference: or NULL */
};

struct fixture {
    char *name;                     /* -- define-fixture: */
    char *text;                     /* SQL run directly */
};

static struct tcase *cases;
static int ncases;
static struct fixture *fixtures;
static int nfixtures;

static const char *db_host, *db_user, *db_pass;
static int db_port, proxy_port;
static bool verbose;
static unsigned stmt_timeout = 60;

/* ---- parsing ------------------------------------------------------------ */

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) {
        s[--n] = '\0';
    }
    return s;
}

static void
append(char **dst, const char *line)
{
    size_t a = *dst != NULL ? strlen(*dst) : 0, b = strlen(line);
    *dst = realloc(*dst, a + b + 2);
    memcpy(*dst + a, line, b);
    (*dst)[a + b] = '\n';
    (*dst)[a + b + 1] = '\0';
}

/* Is LINE "-- KEY..." for a directive KEY? Returns the text after "-- ". */
static const char *
directive(const char *line)
{
    static const char *const keys[] = {
        "case:", "expect:", "why:", "status:", "sql-contains:", "fixture:", "define-fixture:",
        "schema:", "data:", "view ", "create:", "after:", "direct:", "reference:", "query:",
        "forbid:", "sleep:", NULL,
    };
    if (strncmp(line, "-- ", 3) != 0) {
        return NULL;
    }
    for (int i = 0; keys[i] != NULL; i++) {
        if (strncmp(line + 3, keys[i], strlen(keys[i])) == 0) {
            return line + 3;
        }
    }
    return NULL;
}

/* Parse one .case file into the global tables. Returns 0 or -1 (message printed). */
static int
parse_file(const char *path)
{
    char *buf = tc_read_file(path);
    if (buf == NULL) {
        fprintf(stderr, "cases: cannot read %s\n", path);
        return -1;
    }
    struct tcase *c = NULL;
    struct fixture *fx = NULL;
    char **target = NULL;           /* where body lines go */
    int lineno = 0;
    char *save = NULL;
    for (char *ln = strtok_r(buf, "\n", &save); ln != NULL; ln = strtok_r(NULL, "\n", &save)) {
        lineno++;
        /* strtok_r skips empty lines; count them for line numbers */
        if (save != NULL) {
            for (char *q = save; *q == '\n'; q++) {
                lineno++;
            }
        }
        const char *d = directive(ln);
        if (d == NULL) {
            if (ln[0] == '#') {
                continue;
            }
            if (target != NULL) {
                append(target, ln);
            } else if (trim(strdup(ln))[0] != '\0' && strncmp(ln, "--", 2) != 0) {
                fprintf(stderr, "%s:%d: text outside a block\n", path, lineno);
                free(buf);
                return -1;
            }
            continue;
        }
        char *arg = strdup(strchr(d, ':') != NULL && strncmp(d, "view ", 5) != 0
                               ? strchr(d, ':') + 1 : d);
        char *a = trim(arg);
        if (strncmp(d, "define-fixture:", 15) == 0) {
            fixtures = realloc(fixtures, sizeof(*fixtures) * (size_t)(nfixtures + 1));
            fx = &fixtures[nfixtures++];
            fx->name = strdup(a);
            fx->text = NULL;
            target = &fx->text;
            c = NULL;
        } else if (strncmp(d, "case:", 5) == 0) {
            cases = realloc(cases, sizeof(*cases) * (size_t)(ncases + 1));
            c = &cases[ncases++];
            memset(c, 0, sizeof(*c));
            c->name = strdup(a);
            c->file = strdup(path);
            c->line = lineno;
            c->expect = EXP_ANY;
            target = NULL;
            fx = NULL;
        } else if (c == NULL) {
            fprintf(stderr, "%s:%d: directive before -- case:\n", path, lineno);
            free(arg);
            free(buf);
            return -1;
        } else if (strncmp(d, "expect:", 7) == 0) {
            char *w = strtok(a, " \t");
            if (w != NULL && strcasecmp(w, "rewrite") == 0) {
                c->expect = EXP_REWRITE;
                w = strtok(NULL, " \t");
                c->expect_view = w != NULL ? strdup(w) : NULL;
            } else if (w != NULL && strcasecmp(w, "no-rewrite") == 0) {
                c->expect = EXP_NO_REWRITE;
            } else if (w != NULL && strcasecmp(w, "any") == 0) {
                c->expect = EXP_ANY;
            } else {
                fprintf(stderr, "%s:%d: expect must be rewrite [view] | no-rewrite | any\n", path,
                        lineno);
                free(arg);
                free(buf);
                return -1;
            }
            target = NULL;
        } else if (strncmp(d, "why:", 4) == 0) {
            append(&c->why, a);
            target = NULL;
        } else if (strncmp(d, "forbid:", 7) == 0) {
            c->forbid = strdup(a);
            target = NULL;
        } else if (strncmp(d, "status:", 7) == 0) {
            if (strncmp(a, "known-gap", 9) == 0) {
                c->gap = strdup(trim(a + 9));
                if (c->gap[0] == '\0') {
                    free(c->gap);
                    c->gap = strdup("(no reason given)");
                }
            }
            target = NULL;
        } else if (strncmp(d, "sql-contains:", 13) == 0) {
            c->sql_contains = strdup(a);
            target = NULL;
        } else if (strncmp(d, "fixture:", 8) == 0) {
            append(&c->fixtures, a);
            target = NULL;
        } else if (strncmp(d, "query:", 6) == 0) {
            target = &c->query;
        } else if (strncmp(d, "reference:", 10) == 0) {
            target = &c->reference;
        } else {
            c->blocks = realloc(c->blocks, sizeof(*c->blocks) * (size_t)(c->nblocks + 1));
            struct block *b = &c->blocks[c->nblocks++];
            memset(b, 0, sizeof(*b));
            if (strncmp(d, "schema:", 7) == 0) {
                b->kind = BLK_SCHEMA;
            } else if (strncmp(d, "data:", 5) == 0) {
                b->kind = BLK_DATA;
            } else if (strncmp(d, "create:", 7) == 0) {
                b->kind = BLK_CREATE;
            } else if (strncmp(d, "after:", 6) == 0) {
                b->kind = BLK_AFTER;
            } else if (strncmp(d, "direct:", 7) == 0) {
                b->kind = BLK_DIRECT;
            } else if (strncmp(d, "sleep:", 6) == 0) {
                b->kind = BLK_SLEEP;
                b->text = strdup(a);
            } else {
                /* "view NAME [clauses]:" */
                b->kind = BLK_VIEW;
                char *spec = trim(a + 5);
                size_t n = strlen(spec);
                if (n == 0 || spec[n - 1] != ':') {
                    fprintf(stderr, "%s:%d: `-- view NAME [clauses]:` must end with ':'\n", path,
                            lineno);
                    free(arg);
                    free(buf);
                    return -1;
                }
                spec[n - 1] = '\0';
                char *sp = strpbrk(spec, " \t");
                if (sp != NULL) {
                    *sp = '\0';
                    b->clauses = strdup(trim(sp + 1));
                }
                b->name = strdup(spec);
            }
            target = b->kind == BLK_SLEEP ? NULL : &b->text;
        }
        free(arg);
    }
    free(buf);
    return 0;
}

/*
 * Split TEXT into statements at ';' outside quotes and comments. Calls
 * FN(stmt, ctx) for each non-empty statement; stops at the first nonzero
 * return and returns it.
 */
static int
each_stmt(const char *text, int (*fn)(const char *, void *), void *ctx)
{
    if (text == NULL) {
        return 0;
    }
    size_t n = strlen(text);
    char *buf = malloc(n + 1);
    size_t len = 0;
    char q = 0;
    int rc = 0;
    for (size_t i = 0; i <= n && rc == 0; i++) {
        char ch = text[i];
        if (q == 0 && ch == '-' && text[i + 1] == '-' && (i == 0 || text[i - 1] == '\n' ||
                                                           text[i - 1] == ' ')) {
            while (i < n && text[i] != '\n') {
                i++;
            }
            buf[len++] = '\n';
            continue;
        }
        if (q != 0) {
            buf[len++] = ch;
            if (ch == '\\' && q != '`' && i + 1 < n) {
                buf[len++] = text[++i];
            } else if (ch == q) {
                q = 0;
            }
            continue;
        }
        if (ch == '\'' || ch == '"' || ch == '`') {
            q = ch;
            buf[len++] = ch;
            continue;
        }
        if (ch == ';' || ch == '\0') {
            buf[len] = '\0';
            char *s = trim(buf);
            if (s[0] != '\0') {
                rc = fn(s, ctx);
            }
            len = 0;
            continue;
        }
        buf[len++] = ch;
    }
    free(buf);
    return rc;
}

/* ---- running ------------------------------------------------------------ */

struct exec_ctx {
    MYSQL *m;                       /* connection */
    char *err;                      /* first error (TC_ERRLEN) */
    const char *what;               /* label for the error */
};

static int
exec_one(const char *sql, void *p)
{
    struct exec_ctx *x = p;
    char e[TC_ERRLEN];
    if (tc_exec(x->m, sql, e) != 0) {
        snprintf(x->err, TC_ERRLEN, "%s: `%.200s`: %.600s", x->what, sql, e);
        return -1;
    }
    return 0;
}

static const struct fixture *
find_fixture(const char *name)
{
    for (int i = 0; i < nfixtures; i++) {
        if (strcmp(fixtures[i].name, name) == 0) {
            return &fixtures[i];
        }
    }
    return NULL;
}

enum verdict {
    V_PASS,                         /* expectation and rows hold */
    V_FAIL,                         /* expectation does not hold (rows equal) */
    V_WRONG,                        /* rows or column names differ */
    V_GAP,                          /* known gap: expectation not met, rows equal */
    V_FIXED,                        /* known gap that now passes */
    V_ERROR,                        /* setup error or proxy lost */
};

static const char *const verdict_name[] = {"PASS", "FAIL", "WRONG-ROWS", "KNOWN-GAP", "FIXED",
                                           "ERROR"};

/* Run case C (index IDX). MSG (4096) gets the explanation. */
static enum verdict
run_case(const struct tcase *c, int idx, char *msg, json_t *jr)
{
    char db[64], err[TC_ERRLEN];
    snprintf(db, sizeof(db), "tc_%d", idx);
    msg[0] = '\0';
    enum verdict v = V_ERROR;
    struct tc_explain ex;
    memset(&ex, 0, sizeof(ex));
    MYSQL *px = NULL;
    MYSQL *dm = tc_connect(db_host, db_port, db_user, db_pass, NULL, stmt_timeout, err);
    if (dm == NULL) {
        snprintf(msg, 4096, "backend: %s", err);
        return V_ERROR;
    }
    char *s = tc_fmt("DROP DATABASE IF EXISTS %s", db);
    tc_exec(dm, s, NULL);
    free(s);
    s = tc_fmt("CREATE DATABASE %s", db);
    tc_exec(dm, s, NULL);
    free(s);
    mysql_select_db(dm, db);
    struct exec_ctx dx = {dm, err, "fixture"};
    if (c->fixtures != NULL) {
        char *names = strdup(c->fixtures), *sv = NULL;
        for (char *nm = strtok_r(names, " \t\n", &sv); nm != NULL; nm = strtok_r(NULL, " \t\n", &sv)) {
            const struct fixture *f = find_fixture(nm);
            if (f == NULL) {
                snprintf(msg, 4096, "no fixture %s", nm);
                free(names);
                goto out;
            }
            if (each_stmt(f->text, exec_one, &dx) != 0) {
                snprintf(msg, 4096, "setup: %s", err);
                free(names);
                goto out;
            }
        }
        free(names);
    }
    px = tc_connect("127.0.0.1", proxy_port, db_user, db_pass, db, stmt_timeout, err);
    if (px == NULL) {
        snprintf(msg, 4096, "proxy: %s", err);
        goto out;
    }
    struct exec_ctx pxx = {px, err, "through proxy"};
    char notes[2048] = "";
    for (int i = 0; i < c->nblocks; i++) {
        const struct block *b = &c->blocks[i];
        switch (b->kind) {
        case BLK_SCHEMA:
        case BLK_DATA:
        case BLK_DIRECT:
            dx.what = b->kind == BLK_SCHEMA ? "schema" : b->kind == BLK_DATA ? "data" : "direct";
            if (each_stmt(b->text, exec_one, &dx) != 0) {
                snprintf(msg, 4096, "setup: %s", err);
                goto out;
            }
            break;
        case BLK_VIEW: {
            char *sel = strdup(b->text != NULL ? b->text : "");
            char *t = trim(sel);
            size_t n = strlen(t);
            while (n > 0 && t[n - 1] == ';') {
                t[--n] = '\0';
            }
            char *cr = tc_fmt("CREATE MATERIALIZED VIEW %s BUILD IMMEDIATE REFRESH COMPLETE ON "
                              "MANUAL%s%s AS %s",
                              b->name, b->clauses != NULL ? " " : "",
                              b->clauses != NULL ? b->clauses : "", t);
            if (tc_exec(px, cr, err) != 0) {
                size_t l = strlen(notes);
                snprintf(notes + l, sizeof(notes) - l, "[view %s not created: %.300s] ", b->name,
                         err);
            }
            free(cr);
            free(sel);
            break;
        }
        case BLK_CREATE:
        case BLK_AFTER:
            pxx.what = b->kind == BLK_CREATE ? "create" : "after";
            if (each_stmt(b->text, exec_one, &pxx) != 0) {
                snprintf(msg, 4096, "%s", err);
                goto out;
            }
            break;
        case BLK_SLEEP:
            usleep((useconds_t)(atof(b->text) * 1e6));
            break;
        }
    }
    char *q = strdup(c->query != NULL ? c->query : "");
    char *qt = trim(q);
    {
        size_t n = strlen(qt);
        while (n > 0 && qt[n - 1] == ';') {
            qt[--n] = '\0';
        }
    }
    /* the query first: a write just before it must already be visible
     * (read-your-writes); EXPLAIN and the direct run come after */
    struct tc_res want, got;
    tc_query(px, qt, &got);
    if (tc_explain(px, qt, &ex) != 0) {
        size_t l = strlen(notes);
        snprintf(notes + l, sizeof(notes) - l, "[EXPLAIN REWRITE failed: %.300s] ", ex.err);
    }
    const char *ref = c->reference != NULL ? c->reference : qt;
    char *rq = strdup(ref);
    char *rt = trim(rq);
    {
        size_t n = strlen(rt);
        while (n > 0 && rt[n - 1] == ';') {
            rt[--n] = '\0';
        }
    }
    tc_query(dm, rt, &want);
    char diff[2048];
    int cmp = tc_res_compare(&want, &got, true, diff, sizeof(diff));
    if (want.err != 0 && c->reference != NULL) {
        cmp = 1;
        snprintf(diff, sizeof(diff), "reference query failed: %u %s", want.err, want.errmsg);
    }
    json_object_set_new(jr, "want_rows", json_integer(want.nrows));
    json_object_set_new(jr, "got_rows", json_integer(got.nrows));
    tc_res_free(&want);
    tc_res_free(&got);
    free(rq);

    /* expectation */
    char why[1024] = "";
    bool exp_ok = true;
    if (c->expect == EXP_REWRITE) {
        if (!ex.rewritten) {
            exp_ok = false;
            snprintf(why, sizeof(why), "expected a rewrite%s%s, got none", c->expect_view ? " to " : "",
                     c->expect_view ? c->expect_view : "");
        } else if (c->expect_view != NULL && !tc_chosen_is(ex.chosen, c->expect_view)) {
            exp_ok = false;
            snprintf(why, sizeof(why), "expected view %s, chose %s", c->expect_view, ex.chosen);
        }
    } else if (c->expect == EXP_NO_REWRITE && ex.rewritten) {
        exp_ok = false;
        snprintf(why, sizeof(why), "expected no rewrite, chose %s", ex.chosen);
    }
    if (exp_ok && c->forbid != NULL && ex.rewritten) {
        char *fl = strdup(c->forbid), *sv = NULL;
        for (char *nm = strtok_r(fl, " ,\t", &sv); nm != NULL; nm = strtok_r(NULL, " ,\t", &sv)) {
            if (tc_chosen_is(ex.chosen, nm)) {
                exp_ok = false;
                snprintf(why, sizeof(why), "chose forbidden view %s", ex.chosen);
            }
        }
        free(fl);
    }
    if (exp_ok && c->sql_contains != NULL &&
        (ex.sql == NULL || strstr(ex.sql, c->sql_contains) == NULL)) {
        exp_ok = false;
        snprintf(why, sizeof(why), "final SQL lacks `%s`", c->sql_contains);
    }
    if (cmp != 0) {
        v = V_WRONG;
        snprintf(msg, 4096, "%s%s", cmp == 2 ? "COLUMN NAMES: " : "WRONG ROWS: ", diff);
    } else if (!exp_ok) {
        v = c->gap != NULL ? V_GAP : V_FAIL;
        snprintf(msg, 4096, "%s%s%s", why, c->gap != NULL ? " -- known gap: " : "",
                 c->gap != NULL ? c->gap : "");
    } else {
        v = c->gap != NULL ? V_FIXED : V_PASS;
        snprintf(msg, 4096, "%s%s", ex.rewritten ? "rewritten by " : "not rewritten",
                 ex.rewritten ? ex.chosen : "");
    }
    if (notes[0] != '\0') {
        size_t l = strlen(msg);
        snprintf(msg + l, 4096 - l, " %s", notes);
    }
    json_object_set_new(jr, "rewritten", json_boolean(ex.rewritten));
    json_object_set_new(jr, "chosen", json_string(ex.chosen));
    json_object_set_new(jr, "sql", ex.sql != NULL ? json_string(ex.sql) : json_null());
    json_object_set_new(jr, "explain", ex.detail != NULL ? json_string(ex.detail) : json_null());
    free(q);

out:
    if (px != NULL) {
        char *sh = tc_fmt("SHOW MATERIALIZED VIEWS FROM %s", db);
        struct tc_res r;
        if (tc_query(px, sh, &r) == 0) {
            int cn = col_index(&r, "Name");
            for (long i = 0; cn >= 0 && i < r.nrows; i++) {
                if (r.rows[i][cn] != NULL) {
                    char *d = tc_fmt("DROP MATERIALIZED VIEW IF EXISTS %s.%s", db, r.rows[i][cn]);
                    tc_exec(px, d, NULL);
                    free(d);
                }
            }
        }
        tc_res_free(&r);
        free(sh);
        mysql_close(px);
    }
    s = tc_fmt("DROP DATABASE IF EXISTS %s", db);
    tc_exec(dm, s, NULL);
    free(s);
    mysql_close(dm);
    if (v == V_ERROR && ex.detail != NULL) {
        json_object_set_new(jr, "explain", json_string(ex.detail));
    }
    tc_explain_free(&ex);
    return v;
}


/* ---- self test (no database needed) ------------------------------------ */

static struct tc_res
mkres(int ncols, enum enum_field_types t, const char *const *cells, long nrows)
{
    struct tc_res r;
    memset(&r, 0, sizeof(r));
    r.ncols = ncols;
    r.names = calloc((size_t)ncols, sizeof(char *));
    r.types = calloc((size_t)ncols, sizeof(*r.types));
    for (int c = 0; c < ncols; c++) {
        r.names[c] = tc_fmt("c%d", c);
        r.types[c] = c == ncols - 1 ? t : MYSQL_TYPE_VAR_STRING;
    }
    r.nrows = nrows;
    r.rows = calloc((size_t)nrows + 1, sizeof(char **));
    for (long i = 0; i < nrows; i++) {
        r.rows[i] = calloc((size_t)ncols, sizeof(char *));
        for (int c = 0; c < ncols; c++) {
            const char *v = cells[i * ncols + c];
            r.rows[i][c] = v != NULL ? strdup(v) : NULL;
        }
    }
    return r;
}

static int
count_stmt(const char *s, void *p)
{
    (*(int *)p)++;
    return 0;
}

/* Unit checks of the comparison and the splitter; returns failures. */
static int
self_test(void)
{
    int bad = 0;
    char d[2048];
#define CHECK(cond, what)                                                                         \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            printf("self-test FAILED: %s\n", what);                                              \
            bad++;                                                                                \
        }                                                                                         \
    } while (0)
    const char *a1[] = {"x", "1", "y", NULL, "x", "1"};
    const char *b1[] = {"y", NULL, "x", "1", "x", "1"};
    const char *b2[] = {"y", "NULL", "x", "1", "x", "1"};
    const char *b3[] = {"y", NULL, "x", "1", "y", NULL};
    struct tc_res A = mkres(2, MYSQL_TYPE_NEWDECIMAL, a1, 3), B = mkres(2, MYSQL_TYPE_NEWDECIMAL, b1, 3);
    struct tc_res B2 = mkres(2, MYSQL_TYPE_NEWDECIMAL, b2, 3), B3 = mkres(2, MYSQL_TYPE_NEWDECIMAL, b3, 3);
    CHECK(tc_res_compare(&A, &B, true, d, sizeof(d)) == 0, "same multiset in another order");
    CHECK(tc_res_compare(&A, &B2, true, d, sizeof(d)) == 1, "NULL differs from the string NULL");
    CHECK(tc_res_compare(&A, &B3, true, d, sizeof(d)) == 1, "duplicates count");
    struct tc_res A4 = mkres(2, MYSQL_TYPE_NEWDECIMAL, a1, 2);
    CHECK(tc_res_compare(&A, &A4, true, d, sizeof(d)) == 1, "row count");
    const char *f1[] = {"x", "0.30000000000000004", "y", "1e20"};
    const char *f2[] = {"y", "1.0000000000000002e20", "x", "0.3"};
    const char *f3[] = {"y", "1e20", "x", "0.31"};
    struct tc_res F1 = mkres(2, MYSQL_TYPE_DOUBLE, f1, 2), F2 = mkres(2, MYSQL_TYPE_DOUBLE, f2, 2);
    struct tc_res F3 = mkres(2, MYSQL_TYPE_DOUBLE, f3, 2);
    CHECK(tc_res_compare(&F1, &F2, true, d, sizeof(d)) == 0, "double tolerance");
    CHECK(tc_res_compare(&F1, &F3, true, d, sizeof(d)) == 1, "double beyond tolerance");
    const char *e1[] = {"x", "0.3"}, *e2[] = {"x", "0.30"};
    struct tc_res E1 = mkres(2, MYSQL_TYPE_NEWDECIMAL, e1, 1), E2 = mkres(2, MYSQL_TYPE_NEWDECIMAL, e2, 1);
    CHECK(tc_res_compare(&E1, &E2, true, d, sizeof(d)) == 1, "decimal scale is compared as text");
    free(B.names[1]);
    B.names[1] = strdup("other");
    CHECK(tc_res_compare(&A, &B, true, d, sizeof(d)) == 2, "column names");
    CHECK(tc_res_compare(&A, &B, false, d, sizeof(d)) == 0, "column names ignored");
    int n = 0;
    each_stmt("INSERT INTO t VALUES ('a;b', \"c;\\\"d\");\n-- x; y\nSELECT 1 ; ;\nSELECT `a;b` FROM t", count_stmt, &n);
    CHECK(n == 3, "statement splitter");
    struct tc_res *all[] = {&A, &B, &B2, &B3, &A4, &F1, &F2, &F3, &E1, &E2};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tc_res_free(all[i]);
    }
    CHECK(tc_chosen_is("db1.v_x", "v_x") && !tc_chosen_is("db1.v_xy", "v_x") &&
              tc_chosen_is("`db`.`v_x`", "v_x"),
          "chosen view name");
    printf("self-test: %s\n", bad == 0 ? "ok" : "FAILED");
    return bad;
#undef CHECK
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    const char *filter = NULL, *out = NULL;
    static struct option lo[] = {
        {"case", required_argument, 0, 'c'}, {"verbose", no_argument, 0, 'v'},
        {"out", required_argument, 0, 'o'},  {"help", no_argument, 0, 'h'},
        {"self-test", no_argument, 0, 'S'},
        {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "c:vo:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': filter = optarg; break;
        case 'v': verbose = true; break;
        case 'o': out = optarg; break;
        case 'S': return self_test() == 0 ? 0 : 1;
        default:
            fprintf(stderr, "usage: cases [--case SUBSTRING] [--verbose] [--out results.json] [--self-test] "
                            "[FILE.case|DIR ...]\n"
                            "env: MVP_DB_HOST MVP_DB_PORT MVP_PROXY_BIN (or MVP_PROXY_PORT)\n");
            return ch == 'h' ? 0 : 2;
        }
    }
    /* files: arguments, or every .case next to this source file */
    char srcdir[4096];
    snprintf(srcdir, sizeof(srcdir), "%s", __FILE__);
    char *dir = dirname(srcdir);
    char **files = NULL;
    int nfiles = 0;
    int nargs = argc - optind;
    for (int i = 0; i < (nargs > 0 ? nargs : 1); i++) {
        const char *p = nargs > 0 ? argv[optind + i] : tc_env("MVP_CASES_DIR", dir);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(p);
            struct dirent *e;
            while (d != NULL && (e = readdir(d)) != NULL) {
                size_t l = strlen(e->d_name);
                if (l > 5 && strcmp(e->d_name + l - 5, ".case") == 0) {
                    files = realloc(files, sizeof(char *) * (size_t)(nfiles + 1));
                    files[nfiles++] = tc_fmt("%s/%s", p, e->d_name);
                }
            }
            if (d != NULL) {
                closedir(d);
            }
        } else {
            files = realloc(files, sizeof(char *) * (size_t)(nfiles + 1));
            files[nfiles++] = strdup(p);
        }
    }
    qsort(files, (size_t)nfiles, sizeof(char *), cmp_str);
    int parse_rc = 0;
    for (int i = 0; i < nfiles && parse_rc == 0; i++) {
        parse_rc = parse_file(files[i]);
    }
    for (int i = 0; i < nfiles; i++) {
        free(files[i]);
    }
    free(files);
    if (parse_rc != 0) {
        return 2;
    }
    if (ncases == 0) {
        fprintf(stderr, "cases: no cases found\n");
        return 2;
    }
    db_host = tc_env("MVP_DB_HOST", "127.0.0.1");
    db_port = atoi(tc_env("MVP_DB_PORT", "3306"));
    db_user = tc_env("MVP_DB_USER", "root");
    db_pass = getenv("MVP_DB_PASSWORD") != NULL ? getenv("MVP_DB_PASSWORD") : "";
    mysql_library_init(0, NULL, NULL);

    struct tc_proxy proxy;
    memset(&proxy, 0, sizeof(proxy));
    char err[TC_ERRLEN], logpath[256];
    snprintf(logpath, sizeof(logpath), "/tmp/cases-mvproxy-%d.log", (int)getpid());
    if (getenv("MVP_PROXY_PORT") != NULL) {
        proxy_port = atoi(getenv("MVP_PROXY_PORT"));
    } else {
        char guess[4096];
        snprintf(guess, sizeof(guess), "%s/mvproxy", tc_env("MVP_BUILD_DIR", "."));
        const char *bin = tc_env("MVP_PROXY_BIN", guess);
        MYSQL *dm = tc_connect(db_host, db_port, db_user, db_pass, NULL, 30, err);
        if (dm == NULL) {
            fprintf(stderr, "cases: backend: %s\n", err);
            return 2;
        }
        tc_exec(dm, "DROP DATABASE IF EXISTS mvp_cases_meta", NULL);
        mysql_close(dm);
        if (tc_proxy_start(&proxy, bin, db_host, db_port, "mvp_cases_meta", logpath, db_user,
                           db_pass, err) != 0) {
            fprintf(stderr, "cases: %s\n", err);
            return 2;
        }
        proxy_port = proxy.port;
        fprintf(stderr, "cases: mvproxy pid %d on port %d, log %s\n", (int)proxy.pid, proxy.port,
                logpath);
    }

    int counts[6] = {0};
    json_t *jall = json_array();
    bool crashed = false;
    for (int i = 0; i < ncases; i++) {
        const struct tcase *c = &cases[i];
        if (filter != NULL && strstr(c->name, filter) == NULL) {
            continue;
        }
        char msg[4096];
        json_t *jr = json_object();
        double t0 = tc_now();
        enum verdict v = run_case(c, i, msg, jr);
        if (!tc_proxy_alive(&proxy)) {
            char d[128];
            tc_describe_status(proxy.status, d, sizeof(d));
            snprintf(msg + strlen(msg), 4096 - strlen(msg), " [mvproxy DIED: %s]", d);
            v = V_ERROR;
            crashed = true;
        }
        counts[v]++;
        json_object_set_new(jr, "case", json_string(c->name));
        json_object_set_new(jr, "file", json_string(c->file));
        json_object_set_new(jr, "line", json_integer(c->line));
        json_object_set_new(jr, "verdict", json_string(verdict_name[v]));
        json_object_set_new(jr, "message", json_string(msg));
        json_object_set_new(jr, "seconds", json_real(tc_now() - t0));
        json_array_append_new(jall, jr);
        bool show = verbose || (v != V_PASS && v != V_GAP);
        if (show) {
            printf("%-10s %s (%s:%d): %s\n", verdict_name[v], c->name, basename(c->file), c->line,
                   msg);
            if (v == V_WRONG || (verbose && v != V_PASS)) {
                const char *sql = json_string_value(json_object_get(jr, "sql"));
                const char *exd = json_string_value(json_object_get(jr, "explain"));
                printf("           query: %s\n", trim(strdup(c->query ? c->query : "")));
                if (sql != NULL) {
                    printf("           sent : %s\n", sql);
                }
                if (exd != NULL) {
                    printf("           explain:\n%s", exd);
                }
            }
        } else if (v == V_GAP) {
            printf("%-10s %s: %s\n", verdict_name[v], c->name, msg);
        }
        fflush(stdout);
        if (crashed) {
            break;
        }
    }
    if (proxy.pid != 0 && tc_proxy_alive(&proxy)) {
        tc_proxy_stop(&proxy);
    }
    if (out != NULL) {
        json_dump_file(jall, out, JSON_INDENT(1));
    }
    json_decref(jall);
    int passed = counts[V_PASS] + counts[V_FIXED];
    int failed = counts[V_FAIL] + counts[V_WRONG] + counts[V_ERROR];
    printf("\nwrong-rows %d, expectation failures %d, errors %d, known gaps %d, fixed gaps %d%s\n",
           counts[V_WRONG], counts[V_FAIL], counts[V_ERROR], counts[V_GAP], counts[V_FIXED],
           counts[V_FIXED] > 0 ? " (remove their -- status: known-gap)" : "");
    printf("%d passed, %d failed, %d known-gap\n", passed, failed, counts[V_GAP]);
    mysql_library_end();
    return failed > 0 || crashed ? 1 : 0;
}
