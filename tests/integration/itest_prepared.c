/*
 * itest_prepared.c - prepared statements on the rewrite path (issue 11)
 * through the real mvproxy: COM_STMT_PREPARE / EXECUTE with `?` values
 * written as literals and answered from a view (rows equal to direct, the
 * view's RewriteHits moves), a stale view not used, parameter types sent
 * only on the first execute, NULL / string / date / double / decimal
 * values, a cursor, mysql_stmt_reset and send_long_data, an execute error,
 * close and a new prepare, SQL PREPARE / EXECUTE, a multi-statement packet
 * (relayed: compared with direct) and a COM_QUERY holding a `?`.
 *
 * Every check runs the same statement through the proxy and straight on
 * MariaDB and compares the rows (and error numbers).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_common.h"

#define DB "itprep"
#define META "mvp_meta_itprep"
#define MAXP 8

static struct it_env env;
static struct it_proxy proxy;

/* One parameter value for run_stmt. */
struct pval {
    enum enum_field_types type;     /* MYSQL_TYPE_LONGLONG, _DOUBLE, _STRING, _DATE, ... */
    bool is_null;
    bool uns;
    long long i;
    double d;
    const char *s;
    MYSQL_TIME t;
};

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Bind N values V to ST (when BIND) and execute it; every row is fetched
 * (columns as strings) into OUT, sorted. Returns 0 or the statement's error
 * number (OUT then empty).
 */
static unsigned
exec_rows(MYSQL_STMT *st, const struct pval *v, unsigned n, bool bind, struct it_rows *out)
{
    MYSQL_BIND pb[MAXP], rb[16];
    char buf[16][256];
    unsigned long lens[16];
    my_bool nulls[16], pnull[MAXP];
    unsigned long plen[MAXP];
    unsigned nc, i;
    MYSQL_RES *meta;
    int rc;

    memset(out, 0, sizeof(*out));
    if (bind && n > 0) {
        memset(pb, 0, sizeof(pb));
        for (i = 0; i < n; i++) {
            pb[i].buffer_type = v[i].type;
            pnull[i] = v[i].is_null;
            pb[i].is_null = &pnull[i];
            pb[i].is_unsigned = v[i].uns;
            switch (v[i].type) {
            case MYSQL_TYPE_DOUBLE:
                pb[i].buffer = (void *)&v[i].d;
                break;
            case MYSQL_TYPE_STRING:
            case MYSQL_TYPE_VAR_STRING:
            case MYSQL_TYPE_NEWDECIMAL:
            case MYSQL_TYPE_BLOB:
                pb[i].buffer = (void *)(v[i].s != NULL ? v[i].s : "");
                plen[i] = v[i].s != NULL ? strlen(v[i].s) : 0;
                pb[i].buffer_length = plen[i];
                pb[i].length = &plen[i];
                break;
            case MYSQL_TYPE_DATE:
            case MYSQL_TYPE_DATETIME:
            case MYSQL_TYPE_TIMESTAMP:
            case MYSQL_TYPE_TIME:
                pb[i].buffer = (void *)&v[i].t;
                break;
            default:
                pb[i].buffer = (void *)&v[i].i;
                break;
            }
        }
        if (mysql_stmt_bind_param(st, pb) != 0) {
            fail_msg("bind_param: %s", mysql_stmt_error(st));
        }
    }
    if (mysql_stmt_execute(st) != 0) {
        return mysql_stmt_errno(st);
    }
    meta = mysql_stmt_result_metadata(st);
    if (meta == NULL) {
        return 0;
    }
    nc = mysql_num_fields(meta);
    mysql_free_result(meta);
    assert_true(nc <= 16);
    memset(rb, 0, sizeof(rb));
    for (i = 0; i < nc; i++) {
        rb[i].buffer_type = MYSQL_TYPE_STRING;
        rb[i].buffer = buf[i];
        rb[i].buffer_length = sizeof(buf[i]) - 1;
        rb[i].length = &lens[i];
        rb[i].is_null = &nulls[i];
    }
    if (mysql_stmt_bind_result(st, rb) != 0) {
        fail_msg("bind_result: %s", mysql_stmt_error(st));
    }
    out->n_cols = nc;
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        char line[16 * 260];
        size_t off = 0;
        for (i = 0; i < nc; i++) {
            int w;
            if (nulls[i]) {
                w = snprintf(line + off, sizeof(line) - off, "%s\\N", i ? "\t" : "");
            } else {
                buf[i][lens[i] < sizeof(buf[i]) ? lens[i] : sizeof(buf[i]) - 1] = '\0';
                w = snprintf(line + off, sizeof(line) - off, "%s%s", i ? "\t" : "", buf[i]);
            }
            off += (size_t)w;
        }
        out->rows = realloc(out->rows, (out->n + 1) * sizeof(*out->rows));
        assert_non_null(out->rows);
        out->rows[out->n++] = strdup(line);
    }
    if (rc != MYSQL_NO_DATA) {
        unsigned e = mysql_stmt_errno(st);
        it_rows_free(out);
        mysql_stmt_free_result(st);
        return e ? e : 1;
    }
    mysql_stmt_free_result(st);
    if (out->n > 1) {
        qsort(out->rows, out->n, sizeof(*out->rows), cmp_str);
    }
    return 0;
}

static MYSQL_STMT *
prep(MYSQL *m, const char *sql)
{
    MYSQL_STMT *st = mysql_stmt_init(m);
    assert_non_null(st);
    if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
        fail_msg("prepare %s: %s", sql, mysql_stmt_error(st));
    }
    return st;
}

/* RewriteHits of view NAME (SHOW MATERIALIZED VIEWS through the proxy). */
static long long
hits(MYSQL *p, const char *name)
{
    MYSQL_RES *r;
    MYSQL_ROW row;
    int fi, ni;
    long long v = -1;
    assert_int_equal(mysql_query(p, "SHOW MATERIALIZED VIEWS FROM " DB), 0);
    r = mysql_store_result(p);
    assert_non_null(r);
    fi = it_field_index(r, "RewriteHits");
    ni = it_field_index(r, "Name");
    assert_true(fi >= 0 && ni >= 0);
    while ((row = mysql_fetch_row(r)) != NULL) {
        if (row[ni] != NULL && strcmp(row[ni], name) == 0 && row[fi] != NULL) {
            v = atoll(row[fi]);
        }
    }
    mysql_free_result(r);
    return v;
}

static void
assert_rows_same(struct it_rows *a, struct it_rows *b, const char *what)
{
    if (!it_rows_equal(a, b)) {
        it_rows_dump("proxy", a, 20);
        it_rows_dump("direct", b, 20);
        fail_msg("rows differ: %s", what);
    }
    it_rows_free(a);
    it_rows_free(b);
}

/*
 * Prepare SQL through the proxy P and straight on D, execute both with the
 * N values V, compare the rows, and check that view mv_g's hits moved by
 * WANT_HITS. The statements are returned in *SP / *SD when not NULL (else
 * closed).
 */
static void
same_stmt(MYSQL *p, MYSQL *d, const char *sql, const struct pval *v, unsigned n,
          long long want_hits, MYSQL_STMT **sp, MYSQL_STMT **sd)
{
    MYSQL_STMT *a = prep(p, sql), *b = prep(d, sql);
    struct it_rows ra, rb;
    long long h0 = hits(p, "mv_g"), h1;
    unsigned ea = exec_rows(a, v, n, true, &ra), eb = exec_rows(b, v, n, true, &rb);
    if (ea != eb) {
        it_proxy_log_tail(&proxy, 20);
        fail_msg("%s: proxy error %u, direct %u", sql, ea, eb);
    }
    assert_rows_same(&ra, &rb, sql);
    h1 = hits(p, "mv_g");
    if (want_hits >= 0 && h1 - h0 != want_hits) {
        it_proxy_log_tail(&proxy, 20);
        fail_msg("%s: hits moved by %lld, expected %lld", sql, h1 - h0, want_hits);
    }
    if (sp != NULL) {
        *sp = a;
        *sd = b;
    } else {
        mysql_stmt_close(a);
        mysql_stmt_close(b);
    }
}

/* Execute the prepared pair again (BIND: with new values V), compare, check hits. */
static void
same_again(MYSQL *p, MYSQL_STMT *a, MYSQL_STMT *b, const struct pval *v, unsigned n, bool bind,
           long long want_hits, const char *what)
{
    struct it_rows ra, rb;
    long long h0 = hits(p, "mv_g"), h1;
    unsigned ea = exec_rows(a, v, n, bind, &ra), eb = exec_rows(b, v, n, bind, &rb);
    assert_int_equal(ea, eb);
    assert_rows_same(&ra, &rb, what);
    h1 = hits(p, "mv_g");
    if (h1 - h0 != want_hits) {
        it_proxy_log_tail(&proxy, 20);
        fail_msg("%s: hits moved by %lld, expected %lld", what, h1 - h0, want_hits);
    }
}

static struct pval
iv(long long i)
{
    struct pval v;
    memset(&v, 0, sizeof(v));
    v.type = MYSQL_TYPE_LONGLONG;
    v.i = i;
    return v;
}

static int
setup(void **state)
{
    MYSQL *d, *m;
    (void)state;
    it_env_load(&env);
    if (it_reset_dbs(&env, DB, META, true) != 0 ||
        (d = it_connect_direct(&env, NULL, 0)) == NULL) {
        return -1;
    }
    it_exec(d, "CREATE TABLE " DB ".t (id INT PRIMARY KEY, g INT NOT NULL, day DATE NOT NULL, "
               "name VARCHAR(20) NOT NULL, amt DECIMAL(10,2), v DOUBLE)");
    it_exec(d, "INSERT INTO " DB ".t VALUES (1,1,'2024-01-01','a',1.50,0.5),"
               "(2,1,'2024-01-02','b',2.25,1.5),(3,2,'2024-02-01','a',3.10,2.5),"
               "(4,2,'2024-02-01','o''k',NULL,NULL),(5,3,'2024-03-15','b',-4.75,3.5),"
               "(6,3,'2024-03-16','c',10.01,4.5),(7,4,'2024-04-01','a',0.07,5.5)");
    mysql_close(d);
    if (it_proxy_start(&proxy, &env, META, NULL) != 0) {
        return -1;
    }
    m = it_connect_proxy(&proxy, &env, DB, 0);
    if (m == NULL) {
        return -1;
    }
    if (it_exec(m, "CREATE MATERIALIZED VIEW mv_g BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL AS "
                   "SELECT g, day, name, COUNT(*) AS c, COUNT(amt) AS ca, SUM(amt) AS s "
                   "FROM t GROUP BY g, day, name") != 0) {
        mysql_close(m);
        return -1;
    }
    mysql_close(m);
    return 0;
}

static int
teardown(void **state)
{
    static const char *const views[] = {"mv_g", NULL};
    (void)state;
    return it_teardown(&proxy, &env, DB, META, views);
}

static void
conns(MYSQL **p, MYSQL **d, unsigned long flags)
{
    *p = it_must_connect_proxy(&proxy, &env, DB, flags);
    *d = it_must_connect_direct(&env, DB, flags);
}

/* The literal form is rewritten (else the hit checks below prove nothing). */
static void
test_literal_form_rewritten(void **state)
{
    MYSQL *p, *d;
    MYSQL_RES *r;
    MYSQL_ROW row;
    bool rewritten = false;
    (void)state;
    conns(&p, &d, 0);
    r = it_explain_rewrite(p, "SELECT g, SUM(amt), COUNT(*) FROM t WHERE g BETWEEN 1 AND 2 "
                              "GROUP BY g");
    while ((row = mysql_fetch_row(r)) != NULL) {
        if (row[0] == NULL && row[1] != NULL && strncmp(row[1], "REWRITTEN", 9) == 0) {
            rewritten = true;
        }
    }
    mysql_free_result(r);
    assert_true(rewritten);
    mysql_close(p);
    mysql_close(d);
}

/* A range and an IN list of `?`: answered from the view; types sent once. */
static void
test_range_and_in_list(void **state)
{
    MYSQL *p, *d;
    MYSQL_STMT *a, *b;
    struct pval v[2] = {iv(1), iv(2)};
    (void)state;
    conns(&p, &d, 0);
    same_stmt(p, d, "SELECT g, SUM(amt), COUNT(*) FROM t WHERE g BETWEEN ? AND ? GROUP BY g", v,
              2, 1, &a, &b);
    /* again without binding: libmariadb sends no types now; new values in the same buffers */
    same_again(p, a, b, v, 2, false, 1, "second execute, no types sent");
    v[0].i = 3;
    v[1].i = 4;
    same_again(p, a, b, v, 2, true, 1, "rebound values");
    mysql_stmt_close(a);
    mysql_stmt_close(b);
    v[0] = iv(2);
    v[1] = iv(4);
    same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE g IN (?, ?) GROUP BY g", v, 2, 1, NULL,
              NULL);
    /* a negative and an unsigned value */
    v[0] = iv(-1);
    v[1] = iv(3);
    v[1].uns = true;
    same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE g > ? AND g < ? GROUP BY g", v, 2, 1, NULL,
              NULL);
    mysql_close(p);
    mysql_close(d);
}

/* NULL, string (with a quote), date, datetime, double and decimal values. */
static void
test_value_types(void **state)
{
    MYSQL *p, *d;
    struct pval v[2];
    (void)state;
    conns(&p, &d, 0);
    memset(v, 0, sizeof(v));
    v[0] = iv(0);
    v[0].is_null = true;
    v[1] = iv(3);
    /* g BETWEEN NULL AND 3: no rows, answered from the view */
    same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE g BETWEEN ? AND ? GROUP BY g", v, 2, 1,
              NULL, NULL);
    memset(v, 0, sizeof(v));
    v[0].type = MYSQL_TYPE_STRING;
    v[0].s = "o'k";
    same_stmt(p, d, "SELECT name, COUNT(*) FROM t WHERE name = ? GROUP BY name", v, 1, 1, NULL,
              NULL);
    v[0].s = "b";
    same_stmt(p, d, "SELECT g, name, COUNT(*) FROM t WHERE name IN (?, 'c') GROUP BY g, name", v,
              1, 1, NULL, NULL);
    /* a backslash is not written as a literal: relayed, still right */
    v[0].s = "a\\b";
    same_stmt(p, d, "SELECT name, COUNT(*) FROM t WHERE name = ? GROUP BY name", v, 1, 0, NULL,
              NULL);
    memset(v, 0, sizeof(v));
    v[0].type = MYSQL_TYPE_DATE;
    v[0].t.year = 2024;
    v[0].t.month = 2;
    v[0].t.day = 1;
    v[0].t.time_type = MYSQL_TIMESTAMP_DATE;
    /* DATE and DATETIME values are written as DATE'..' / TIMESTAMP'..'
     * literals, which the view answers */
    same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE day >= ? GROUP BY g", v, 1, 1, NULL, NULL);
    v[0].type = MYSQL_TYPE_DATETIME;
    v[0].t.time_type = MYSQL_TIMESTAMP_DATETIME;
    same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE day > ? GROUP BY g", v, 1, 1, NULL, NULL);
    v[0].t.hour = 13;
    same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE day > ? GROUP BY g", v, 1, 1, NULL, NULL);
    /* microseconds: not a constant the matcher compares yet; relayed, rows right */
    v[0].t.hour = 0;
    v[0].t.second_part = 5;
    same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE day > ? GROUP BY g", v, 1, 0, NULL, NULL);
    memset(v, 0, sizeof(v));
    v[0].type = MYSQL_TYPE_DOUBLE;
    v[0].d = 1.5;
    same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE g > ? GROUP BY g", v, 1, 1, NULL, NULL);
    v[0].d = -0.25;
    same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE g > ? GROUP BY g", v, 1, 1, NULL, NULL);
    memset(v, 0, sizeof(v));
    v[0].type = MYSQL_TYPE_NEWDECIMAL;
    v[0].s = "2.5";
    same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE g < ? GROUP BY g", v, 1, 1, NULL, NULL);
    /* a blob value is never rewritten */
    memset(v, 0, sizeof(v));
    v[0].type = MYSQL_TYPE_BLOB;
    v[0].s = "a";
    same_stmt(p, d, "SELECT name, COUNT(*) FROM t WHERE name = ? GROUP BY name", v, 1, 0, NULL,
              NULL);
    mysql_close(p);
    mysql_close(d);
}

/* A cursor's execute and fetches go to the original statement. */
static void
test_cursor(void **state)
{
    MYSQL *p, *d;
    MYSQL_STMT *a, *b;
    unsigned long type = CURSOR_TYPE_READ_ONLY, prefetch = 1;
    struct pval v[2] = {iv(1), iv(4)};
    const char *sql = "SELECT g, COUNT(*) FROM t WHERE g BETWEEN ? AND ? GROUP BY g";
    struct it_rows ra, rb;
    long long h0, h1;
    (void)state;
    conns(&p, &d, 0);
    a = mysql_stmt_init(p);
    b = mysql_stmt_init(d);
    assert_int_equal(mysql_stmt_attr_set(a, STMT_ATTR_CURSOR_TYPE, &type), 0);
    assert_int_equal(mysql_stmt_attr_set(b, STMT_ATTR_CURSOR_TYPE, &type), 0);
    assert_int_equal(mysql_stmt_attr_set(a, STMT_ATTR_PREFETCH_ROWS, &prefetch), 0);
    assert_int_equal(mysql_stmt_attr_set(b, STMT_ATTR_PREFETCH_ROWS, &prefetch), 0);
    assert_int_equal(mysql_stmt_prepare(a, sql, (unsigned long)strlen(sql)), 0);
    assert_int_equal(mysql_stmt_prepare(b, sql, (unsigned long)strlen(sql)), 0);
    h0 = hits(p, "mv_g");
    assert_int_equal(exec_rows(a, v, 2, true, &ra), 0);
    assert_int_equal(exec_rows(b, v, 2, true, &rb), 0);
    assert_int_equal(ra.n, 4);
    assert_rows_same(&ra, &rb, "cursor");
    h1 = hits(p, "mv_g");
    assert_int_equal(h1, h0);
    mysql_stmt_close(a);
    mysql_stmt_close(b);
    mysql_close(p);
    mysql_close(d);
}

/* send_long_data: that execute is relayed; after mysql_stmt_reset rewritten again. */
static void
test_reset_and_long_data(void **state)
{
    MYSQL *p, *d;
    MYSQL_STMT *a, *b;
    struct pval v[1];
    (void)state;
    conns(&p, &d, 0);
    memset(v, 0, sizeof(v));
    v[0].type = MYSQL_TYPE_STRING;
    v[0].s = "a";
    same_stmt(p, d, "SELECT name, COUNT(*) FROM t WHERE name = ? GROUP BY name", v, 1, 1, &a,
              &b);
    {
        MYSQL_BIND pb[1];
        unsigned long l = 0;
        struct it_rows ra, rb;
        long long h0 = hits(p, "mv_g");
        memset(pb, 0, sizeof(pb));
        pb[0].buffer_type = MYSQL_TYPE_STRING;
        pb[0].buffer = (void *)"";
        pb[0].length = &l;
        assert_int_equal(mysql_stmt_bind_param(a, pb), 0);
        assert_int_equal(mysql_stmt_bind_param(b, pb), 0);
        assert_int_equal(mysql_stmt_send_long_data(a, 0, "b", 1), 0);
        assert_int_equal(mysql_stmt_send_long_data(b, 0, "b", 1), 0);
        assert_int_equal(exec_rows(a, NULL, 0, false, &ra), 0);
        assert_int_equal(exec_rows(b, NULL, 0, false, &rb), 0);
        assert_int_equal(ra.n, 1);
        assert_rows_same(&ra, &rb, "long data");
        assert_int_equal(hits(p, "mv_g"), h0);
        assert_int_equal(mysql_stmt_reset(a), 0);
        assert_int_equal(mysql_stmt_reset(b), 0);
    }
    v[0].s = "c";
    same_again(p, a, b, v, 1, true, 1, "after reset");
    mysql_stmt_close(a);
    mysql_stmt_close(b);
    mysql_close(p);
    mysql_close(d);
}

/*
 * An execute error reaches the client as direct, at the same step (execute or
 * fetch) and with the same code; the connection stays usable. Each statement
 * errors while rows are produced (a scalar subquery returns more than one
 * row): in the select list, in WHERE, and where the backend reports it at
 * execute already (before the first row).
 */
static void
test_execute_error(void **state)
{
    static const char *const sqls[] = {
        "SELECT g, COUNT(*) FROM t WHERE g < (SELECT id FROM t WHERE g > ?) GROUP BY g",
        "SELECT g, (SELECT id FROM t WHERE g > ?) FROM t GROUP BY g",
        "SELECT 1 FROM t WHERE ? = (SELECT id FROM t)",
        "SELECT g, COUNT(*) FROM t WHERE g >= ? AND g < (SELECT id FROM t) GROUP BY g",
    };
    MYSQL *p, *d;
    MYSQL_STMT *a, *b;
    struct pval v[1];
    struct it_rows ra, rb;
    unsigned ea, eb, k;
    (void)state;
    conns(&p, &d, 0);
    for (k = 0; k < sizeof(sqls) / sizeof(sqls[0]); k++) {
        a = prep(p, sqls[k]);
        b = prep(d, sqls[k]);
        v[0] = iv(0);
        ea = exec_rows(a, v, 1, true, &ra);
        eb = exec_rows(b, v, 1, true, &rb);
        assert_int_not_equal(eb, 0);
        if (ea != eb) {
            fail_msg("%s: through the proxy %u, direct %u", sqls[k], ea, eb);
        }
        v[0].i = 3;
        ea = exec_rows(a, v, 1, true, &ra);
        eb = exec_rows(b, v, 1, true, &rb);
        if (ea != eb) {
            fail_msg("%s (again): through the proxy %u, direct %u", sqls[k], ea, eb);
        }
        if (eb == 0) {
            assert_rows_same(&ra, &rb, "after the error");
        }
        mysql_stmt_close(a);
        mysql_stmt_close(b);
    }
    v[0] = iv(1);
    same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE g >= ? GROUP BY g", v, 1, 1, NULL, NULL);
    mysql_close(p);
    mysql_close(d);
}

/* Close, then a new prepare (a new statement, other columns) on the same connection. */
static void
test_close_and_new_prepare(void **state)
{
    MYSQL *p, *d;
    struct pval v[2] = {iv(1), iv(3)};
    int k;
    (void)state;
    conns(&p, &d, 0);
    for (k = 0; k < 3; k++) {
        same_stmt(p, d, "SELECT g, COUNT(*) FROM t WHERE g BETWEEN ? AND ? GROUP BY g", v, 2, 1,
                  NULL, NULL);
        same_stmt(p, d, "SELECT g, SUM(amt), COUNT(amt), COUNT(*) FROM t WHERE g BETWEEN ? AND ? "
                        "GROUP BY g", v, 2, 1, NULL, NULL);
    }
    /* not a SELECT of the view's table: relayed */
    same_stmt(p, d, "SELECT ? + 1, ?", v, 2, 0, NULL, NULL);
    mysql_close(p);
    mysql_close(d);
}

/* SQL PREPARE / EXECUTE: rewritten without USING and with USING (test_sql_using). */
static void
test_sql_prepare(void **state)
{
    MYSQL *p, *d;
    struct it_rows ra, rb;
    long long h0;
    static const char *const setup_sql[] = {
        "PREPARE s1 FROM 'SELECT g, COUNT(*) FROM t WHERE g BETWEEN 1 AND 2 GROUP BY g'",
        "PREPARE s2 FROM 'SELECT g, COUNT(*) FROM t WHERE g <= ? GROUP BY g'",
        "SET @lim = 2", NULL};
    int i;
    (void)state;
    conns(&p, &d, 0);
    for (i = 0; setup_sql[i] != NULL; i++) {
        it_exec_ok(p, setup_sql[i]);
        it_exec_ok(d, setup_sql[i]);
    }
    h0 = hits(p, "mv_g");
    assert_int_equal(it_query_rows(p, "EXECUTE s1", &ra), 0);
    assert_int_equal(it_query_rows(d, "EXECUTE s1", &rb), 0);
    assert_int_equal(ra.n, 2);
    assert_rows_same(&ra, &rb, "EXECUTE s1");
    assert_int_equal(hits(p, "mv_g"), h0 + 1);
    h0 += 1;
    /* USING @var: the value is read back and written as a literal */
    assert_int_equal(it_query_rows(p, "EXECUTE s2 USING @lim", &ra), 0);
    assert_int_equal(it_query_rows(d, "EXECUTE s2 USING @lim", &rb), 0);
    assert_int_equal(ra.n, 2);
    assert_rows_same(&ra, &rb, "EXECUTE s2 USING @lim");
    assert_int_equal(hits(p, "mv_g"), h0 + 1);
    h0 += 1;
    /* without USING: the backend's error, not a rewrite of the text with `?` */
    assert_int_equal(it_query_rows(p, "EXECUTE s2", &ra), it_query_rows(d, "EXECUTE s2", &rb));
    assert_int_equal(hits(p, "mv_g"), h0);
    /* FROM @var: not followed, relayed */
    it_exec_ok(p, "SET @q = 'SELECT g, COUNT(*) FROM t WHERE g = 3 GROUP BY g'");
    it_exec_ok(d, "SET @q = 'SELECT g, COUNT(*) FROM t WHERE g = 3 GROUP BY g'");
    it_exec_ok(p, "PREPARE s1 FROM @q");
    it_exec_ok(d, "PREPARE s1 FROM @q");
    assert_int_equal(it_query_rows(p, "EXECUTE s1", &ra), 0);
    assert_int_equal(it_query_rows(d, "EXECUTE s1", &rb), 0);
    assert_rows_same(&ra, &rb, "EXECUTE s1 from @q");
    assert_int_equal(hits(p, "mv_g"), h0);
    /* a failed PREPARE leaves no statement */
    it_exec_ok(p, "PREPARE s1 FROM 'SELECT g FROM t GROUP BY g'");
    it_exec_ok(d, "PREPARE s1 FROM 'SELECT g FROM t GROUP BY g'");
    it_expect_errno(p, "PREPARE s1 FROM 'SELEC g FROM t'", 1064);
    it_expect_errno(d, "PREPARE s1 FROM 'SELEC g FROM t'", 1064);
    it_expect_errno(p, "EXECUTE s1", 1243);
    it_expect_errno(d, "EXECUTE s1", 1243);
    /* DEALLOCATE forgets */
    it_exec_ok(p, "DEALLOCATE PREPARE s2");
    it_exec_ok(d, "DEALLOCATE PREPARE s2");
    it_expect_errno(p, "EXECUTE s2", 1243);
    it_expect_errno(d, "EXECUTE s2", 1243);
    mysql_close(p);
    mysql_close(d);
}

/* EXECUTE su USING LIST through the proxy and directly: error WANT_ERR
 * (0: none) on both, the same rows, and mv_g's hits moved by WANT. */
static void
same_using(MYSQL *p, MYSQL *d, const char *list, long long want, unsigned want_err)
{
    char sql[512];
    struct it_rows ra, rb;
    long long h0 = hits(p, "mv_g"), h1;
    unsigned ea, eb;
    snprintf(sql, sizeof(sql), "EXECUTE su USING %s", list);
    ea = (unsigned)it_query_rows(p, sql, &ra);
    eb = (unsigned)it_query_rows(d, sql, &rb);
    if (ea != want_err || eb != want_err) {
        it_proxy_log_tail(&proxy, 20);
        fail_msg("%s: proxy error %u, direct %u, expected %u", sql, ea, eb, want_err);
    }
    if (ea == 0) {
        assert_rows_same(&ra, &rb, sql);
    }
    h1 = hits(p, "mv_g");
    if (want >= 0 && h1 - h0 != want) {
        it_proxy_log_tail(&proxy, 20);
        fail_msg("%s: hits moved by %lld, expected %lld", sql, h1 - h0, want);
    }
    /* the connection is usable and its state unchanged by the proxy's probe */
    assert_int_equal(it_query_rows(p, "SELECT @i, @s", &ra), 0);
    assert_int_equal(it_query_rows(d, "SELECT @i, @s", &rb), 0);
    assert_rows_same(&ra, &rb, "SELECT @i, @s");
}

/*
 * EXECUTE ... USING: constants and user / system variables are written as
 * literals (variables read back by the proxy's own SELECT first); values
 * that would not mean the same as a literal (a DOUBLE, a binary string, a
 * string in another collation, a backslash) are relayed, rows right; a
 * variable the backend cannot read gives the backend's error.
 */
static void
test_sql_using(void **state)
{
    MYSQL *p, *d;
    static const char *const setup_sql[] = {
        "PREPARE su FROM 'SELECT g, name, COUNT(*) FROM t WHERE g <= ? AND name <> ? "
        "GROUP BY g, name'",
        "SET @i = 3, @s = 'b', @neg = -1, @dec = 2.50, @dbl = 2.5e0, @nul = NULL, "
        "@bin = BINARY 'b', @lat = _latin1'b' COLLATE latin1_bin, @bs = 'a\\\\b', "
        "@q = 'o''k'",
        NULL};
    int i;
    (void)state;
    conns(&p, &d, 0);
    for (i = 0; setup_sql[i] != NULL; i++) {
        it_exec_ok(p, setup_sql[i]);
        it_exec_ok(d, setup_sql[i]);
    }
    same_using(p, d, "@i, @s", 1, 0);
    same_using(p, d, "2, 'a'", 1, 0);
    same_using(p, d, "-1, 'a'", 1, 0);
    same_using(p, d, "@neg, @s", 1, 0);
    same_using(p, d, "@dec, @s", 1, 0);
    same_using(p, d, "@i, @q", 1, 0);
    same_using(p, d, "@i, NULL", 1, 0);
    same_using(p, d, "@nul, @s", 1, 0);
    same_using(p, d, "@never_set, @s", 1, 0);
    same_using(p, d, "@@auto_increment_increment, @s", 1, 0);
    same_using(p, d, "@i, 'b'", 1, 0);
    /* relayed: rows right, no hit */
    same_using(p, d, "@dbl, @s", 0, 0);
    same_using(p, d, "@i, @bin", 0, 0);
    same_using(p, d, "@i, @lat", 0, 0);
    same_using(p, d, "@i, @bs", 0, 0);
    same_using(p, d, "@i + 1, @s", 0, 0);
    /* the backend's own errors, the connection kept */
    same_using(p, d, "@i", 0, 1210);
    same_using(p, d, "@@no_such_variable, @s", 0, 1193);
    /* a view made stale by a write is not used; the base table answers */
    it_exec_ok(p, "INSERT INTO t VALUES (100, 1, '2024-05-01', 'z', 1.00, 1.0)");
    same_using(p, d, "@i, @s", 0, 0);
    it_exec_ok(p, "DELETE FROM t WHERE id = 100");
    it_exec_ok(p, "REFRESH MATERIALIZED VIEW mv_g COMPLETE");
    mysql_close(p);
    mysql_close(d);
}

/* A COM_QUERY holding a `?` token is never rewritten: the backend's error. */
static void
test_query_with_placeholder(void **state)
{
    MYSQL *p, *d;
    long long h0;
    (void)state;
    conns(&p, &d, 0);
    h0 = hits(p, "mv_g");
    it_expect_errno(p, "SELECT g, COUNT(*) FROM t WHERE g BETWEEN ? AND 2 GROUP BY g", 1064);
    it_expect_errno(d, "SELECT g, COUNT(*) FROM t WHERE g BETWEEN ? AND 2 GROUP BY g", 1064);
    assert_int_equal(hits(p, "mv_g"), h0);
    mysql_close(p);
    mysql_close(d);
}

/* Every result set and the final error of a multi-statement packet, in order. */
static unsigned
multi_results(MYSQL *m, const char *sql, char *out, size_t outlen)
{
    size_t off = 0;
    int st;
    MYSQL_RES *r;
    MYSQL_ROW row;
    unsigned i;
    out[0] = '\0';
    if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0) {
        return mysql_errno(m);
    }
    do {
        r = mysql_store_result(m);
        if (r != NULL) {
            while ((row = mysql_fetch_row(r)) != NULL) {
                for (i = 0; i < mysql_num_fields(r); i++) {
                    off += (size_t)snprintf(out + off, outlen - off, "%s,",
                                            row[i] ? row[i] : "NULL");
                }
                off += (size_t)snprintf(out + off, outlen - off, ";");
            }
            mysql_free_result(r);
        }
        off += (size_t)snprintf(out + off, outlen - off, "|");
        st = mysql_next_result(m);
    } while (st == 0);
    return st > 0 ? mysql_errno(m) : 0;
}

/* A multi-statement packet: two SELECTs (one the view answers), then an error. */
static void
test_multi_statement(void **state)
{
    MYSQL *p, *d;
    char a[4096], b[4096];
    const char *sql = "SELECT g, COUNT(*) FROM t WHERE g BETWEEN 1 AND 2 GROUP BY g ORDER BY g; "
                      "SELECT 1; SELECT * FROM no_such_table; SELECT 2";
    unsigned ea, eb;
    (void)state;
    conns(&p, &d, CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS);
    ea = multi_results(p, sql, a, sizeof(a));
    eb = multi_results(d, sql, b, sizeof(b));
    assert_int_equal(ea, 1146);
    assert_int_equal(ea, eb);
    assert_string_equal(a, b);
    /* the connection is usable */
    ea = multi_results(p, "SELECT 3; SELECT 4", a, sizeof(a));
    eb = multi_results(d, "SELECT 3; SELECT 4", b, sizeof(b));
    assert_int_equal(ea, eb);
    assert_string_equal(a, b);
    mysql_close(p);
    mysql_close(d);
}

/* After a base-table write the stale view is not used (fresh rows); after REFRESH it is. */
static void
test_stale_view(void **state)
{
    MYSQL *p, *d;
    MYSQL_STMT *a, *b;
    struct pval v[2] = {iv(1), iv(9)};
    (void)state;
    conns(&p, &d, 0);
    same_stmt(p, d, "SELECT g, SUM(amt), COUNT(*) FROM t WHERE g BETWEEN ? AND ? GROUP BY g", v,
              2, 1, &a, &b);
    it_exec_ok(p, "INSERT INTO t VALUES (100, 9, '2024-05-01', 'z', 7.00, 1)");
    same_again(p, a, b, v, 2, false, 0, "stale view");
    it_exec_ok(p, "REFRESH MATERIALIZED VIEW mv_g COMPLETE");
    same_again(p, a, b, v, 2, false, 1, "refreshed view");
    mysql_stmt_close(a);
    mysql_stmt_close(b);
    mysql_close(p);
    mysql_close(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_form_rewritten),
        cmocka_unit_test(test_range_and_in_list),
        cmocka_unit_test(test_value_types),
        cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_reset_and_long_data),
        cmocka_unit_test(test_execute_error),
        cmocka_unit_test(test_close_and_new_prepare),
        cmocka_unit_test(test_sql_prepare),
        cmocka_unit_test(test_sql_using),
        cmocka_unit_test(test_query_with_placeholder),
        cmocka_unit_test(test_multi_statement),
        cmocka_unit_test(test_stale_view),
    };

    mysql_library_init(0, NULL, NULL);
    return cmocka_run_group_tests(tests, setup, teardown);
}
