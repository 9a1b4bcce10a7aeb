/*
 * conformance.c - runs the Doris view-matching corpus (../shared/conformance,
 * README there) through a real mvproxy against the private MariaDB and
 * scores it: per case a fresh database, tables and rows loaded directly,
 * views created and after-view statements replayed through the proxy, then
 * EXPLAIN REWRITE, and the query's rows through the proxy vs directly.
 *
 *   parent ── starts mvproxy (or uses $MVP_PROXY_PORT), forks --jobs workers,
 *     │       watches the proxy (restarts it and records a crash if it dies)
 *     ├─ worker k: cases i with i % jobs == k ──> one JSON line per case
 *     └─ merges the lines: summary, by tag, by expect, --out results.json
 *
 * Exit status: 0 unless a rewritten answer differed from the direct one
 * (wrong rows) or the proxy crashed. A success case that is merely not
 * rewritten is the score, not an error. See tests/conformance/README.md.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdint.h>

#include "../cases/tc_common.h"

#define DEFAULT_STMT_TIMEOUT 60     /* seconds per statement (read timeout) */
#define DEFAULT_CASE_TIMEOUT 180    /* seconds per case before it is abandoned */

struct opts {
    const char *file;               /* corpus .jsonl */
    const char *out;                /* results JSON path or NULL */
    const char *tag;                /* only cases with this tag */
    const char *expect;             /* only cases with this expect */
    long *only;                     /* --case numbers (file line numbers) */
    int nonly;                      /* entries in only */
    long limit;                     /* at most this many cases (0 = all) */
    long stride;                    /* every stride-th case (1 = all) */
    long offset;                    /* first case of the stride (0-based) */
    int jobs;                       /* worker processes */
    bool verbose;                   /* per-case line */
    bool keep;                      /* keep the per-case databases */
    unsigned stmt_timeout;          /* seconds, read timeout per statement */
    unsigned case_timeout;          /* seconds per case */
};

struct env {
    const char *dbhost;             /* MVP_DB_HOST */
    int dbport;                     /* MVP_DB_PORT */
    const char *user;               /* MVP_DB_USER (root) */
    const char *pass;               /* MVP_DB_PASSWORD ("") */
    int proxy_port;                 /* the proxy's port */
};

static struct opts o;
static struct env env;

/* ---- small helpers ------------------------------------------------------ */

static bool
has_tag(json_t *c, const char *tag)
{
    json_t *tags = json_object_get(c, "tags");
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) {
        if (strcmp(json_string_value(t), tag) == 0) {
            return true;
        }
    }
    return false;
}

static const char *
jstr(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : "";
}

static bool
starts_ci(const char *s, const char *prefix)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
        s++;
    }
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool
is_dml(const char *s)
{
    return starts_ci(s, "insert") || starts_ci(s, "update") || starts_ci(s, "delete") ||
           starts_ci(s, "replace") || starts_ci(s, "truncate") || starts_ci(s, "load");
}

static bool
truthy(const char *v)
{
    return strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0;
}

static void
note(json_t *notes, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[2048];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_array_append_new(notes, json_string(buf));
}

/* Connect to the proxy, retrying for a few seconds (it may be restarting). */
static MYSQL *
proxy_connect(const char *db, char *err)
{
    for (int i = 0; i < 50; i++) {
        MYSQL *m = tc_connect("127.0.0.1", env.proxy_port, env.user, env.pass, db,
                              o.stmt_timeout, err);
        if (m != NULL) {
            return m;
        }
        usleep(200 * 1000);
    }
    return NULL;
}

static bool
lost(unsigned err)
{
    return err == 2006 || err == 2013 || err == 2002 || err == 2003 || err == 2055;
}

/*
 * The CREATE MATERIALIZED VIEW statement for a corpus view: Doris's refresh
 * clause becomes BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL, the partition
 * clause is kept, properties are limited to SPEC §3's (use_for_rewrite=false
 * maps to query_rewrite_consistency=DISABLE); the rest are noted and dropped.
 */
static char *
create_mv_sql(const char *name, const char *sql, json_t *c, json_t *notes)
{
    static const char *const known[] = {
        "grace_period", "excluded_trigger_tables", "partition_sync_limit",
        "partition_sync_time_unit", "query_rewrite_consistency",
        "enable_nondeterministic_function", "refresh_partition_num", NULL,
    };
    char props[2048] = "";
    if (c != NULL) {
        json_t *pr = json_object_get(c, "mv_properties");
        const char *k;
        json_t *v;
        json_object_foreach(pr, k, v) {
            const char *val = json_string_value(v);
            char item[512] = "";
            if (val == NULL) {
                continue;
            }
            if (strcmp(k, "use_for_rewrite") == 0) {
                if (!truthy(val)) {
                    snprintf(item, sizeof(item), "\"query_rewrite_consistency\" = \"DISABLE\"");
                }
            } else {
                bool ok = false;
                for (int i = 0; known[i] != NULL; i++) {
                    ok = ok || strcmp(known[i], k) == 0;
                }
                if (ok) {
                    snprintf(item, sizeof(item), "\"%s\" = \"%s\"", k, val);
                } else if (strcmp(k, "replication_num") != 0) {
                    note(notes, "property %s=%s dropped (Doris only)", k, val);
                }
            }
            if (item[0] != '\0') {
                size_t l = strlen(props);
                snprintf(props + l, sizeof(props) - l, "%s%s", props[0] ? ", " : "", item);
            }
        }
    }
    const char *part = c != NULL ? json_string_value(json_object_get(c, "mv_partition_by")) : NULL;
    return tc_fmt("CREATE MATERIALIZED VIEW %s BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL%s%s%s%s%s "
                  "AS %s",
                  name, part != NULL ? " PARTITION BY " : "", part != NULL ? part : "",
                  props[0] ? " PROPERTIES (" : "", props, props[0] ? ")" : "", sql);
}

/* Drop every view the proxy knows in DB, through the proxy. */
static void
drop_views(MYSQL *px, const char *db)
{
    char *sql = tc_fmt("SHOW MATERIALIZED VIEWS FROM %s", db);
    struct tc_res r;
    if (tc_query(px, sql, &r) == 0) {
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
    free(sql);
}

/* ---- one case ----------------------------------------------------------- */

/* tables_ddl comment lines that carry a Doris informational constraint */
#define ICON_PREFIX "-- doris informational constraint: "


/*
 * Run case C (LINE = its 1-based line in the corpus) and return its result
 * object (caller owns). Outcome: "pass", "fail" or "skip".
 */
static json_t *
run_case(json_t *c, long line)
{
    double t0 = tc_now();
    json_t *res = json_object();
    json_t *notes = json_array();
    json_t *md = json_object_get(c, "mariadb");
    const char *expect = jstr(c, "expect");
    const char *mv_name = jstr(c, "mv_name");
    char db[64];
    snprintf(db, sizeof(db), "conf_%ld", line);
    json_object_set_new(res, "line", json_integer(line));
    json_object_set_new(res, "case", json_incref(json_object_get(c, "case")));
    json_object_set_new(res, "suite", json_string(jstr(c, "suite")));
    json_object_set_new(res, "expect", json_string(expect));
    json_object_set_new(res, "tags", json_incref(json_object_get(c, "tags")));
    json_object_set_new(res, "mv_name", json_string(mv_name));

    const char *outcome = "fail";
    char reason[4096] = "";
    char err[TC_ERRLEN];
    bool rewritten = false, wrong = false, rows_equal = false, proxy_lost = false;
    bool stale_grace = false;
    struct tc_explain ex;
    memset(&ex, 0, sizeof(ex));
    MYSQL *dm = NULL, *px = NULL;

    dm = tc_connect(env.dbhost, env.dbport, env.user, env.pass, NULL, o.stmt_timeout, err);
    if (dm == NULL) {
        outcome = "skip";
        snprintf(reason, sizeof(reason), "setup: %s", err);
        goto out;
    }
    char *s = tc_fmt("DROP DATABASE IF EXISTS %s", db);
    tc_exec(dm, s, NULL);
    free(s);
    s = tc_fmt("CREATE DATABASE %s", db);
    int rc = tc_exec(dm, s, err);
    free(s);
    if (rc != 0 || mysql_select_db(dm, db) != 0) {
        outcome = "skip";
        snprintf(reason, sizeof(reason), "setup: create database: %s", err);
        goto out;
    }
    const char *lists[] = {"tables_ddl", "inserts"};
    for (int li = 0; li < 2; li++) {
        size_t i;
        json_t *st;
        json_array_foreach(json_object_get(md, lists[li]), i, st) {
            if (strncmp(json_string_value(st), ICON_PREFIX, strlen(ICON_PREFIX)) == 0) {
                continue; /* sent through the proxy below, once the tables exist */
            }
            if (tc_exec(dm, json_string_value(st), err) != 0) {
                outcome = "skip";
                snprintf(reason, sizeof(reason), "setup: %s[%zu] rejected by MariaDB: %s",
                         lists[li], i, err);
                goto out;
            }
        }
    }

    px = proxy_connect(db, err);
    if (px == NULL) {
        proxy_lost = true;
        snprintf(reason, sizeof(reason), "proxy: %s", err);
        goto out;
    }
    /* Doris informational constraints (comment lines of tables_ddl): declared
     * through the proxy as `<stmt> NOT ENFORCED`, after the tables and rows,
     * before the views; an error is noted (the case still runs) */
    {
        size_t i;
        json_t *st;
        json_array_foreach(json_object_get(md, "tables_ddl"), i, st) {
            const char *t = json_string_value(st);
            if (strncmp(t, ICON_PREFIX, strlen(ICON_PREFIX)) == 0) {
                char *q = tc_fmt("%s NOT ENFORCED", t + strlen(ICON_PREFIX));
                if (tc_exec(px, q, err) != 0) {
                    note(notes, "informational constraint refused by the proxy: %s: %s", q, err);
                }
                free(q);
            }
        }
    }
    /* session switches that are ours; the rest are Doris planner knobs */
    bool rewrite_on = true;
    {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(c, "session"), k, v) {
            if (strcmp(k, "enable_materialized_view_rewrite") == 0) {
                rewrite_on = truthy(json_string_value(v));
                if (!rewrite_on) {
                    tc_exec(px, "SET enable_materialized_view_rewrite = OFF", NULL);
                }
            }
        }
    }

    /* views: base_mvs first, then the case's view; each SELECT is checked
     * directly first so that MariaDB's refusals are setup skips */
    bool mv_ok = true;
    json_t *mvs = json_array();
    {
        size_t i;
        json_t *b;
        json_array_foreach(json_object_get(md, "base_mvs"), i, b) {
            json_t *pair = json_pack("{s:s, s:s, s:b}", "name", jstr(b, "name"), "sql",
                                     jstr(b, "sql"), "main", 0);
            json_array_append_new(mvs, pair);
        }
        json_array_append_new(mvs, json_pack("{s:s, s:s, s:b}", "name", mv_name, "sql",
                                             jstr(md, "mv_sql"), "main", 1));
        /* the corpus does not always list base views in dependency order:
         * create the ones whose SELECT runs, then retry the rest */
        size_t nm = json_array_size(mvs);
        bool *done = calloc(nm + 1, sizeof(bool));
        for (bool progress = true; progress;) {
            progress = false;
            for (i = 0; i + 1 < nm; i++) {
                json_t *bm = json_array_get(mvs, i);
                char *chk = tc_fmt("SELECT * FROM (%s) conf_chk LIMIT 0", jstr(bm, "sql"));
                if (!done[i] && tc_exec(dm, chk, err) == 0) {
                    char *cr = create_mv_sql(jstr(bm, "name"), jstr(bm, "sql"), NULL, notes);
                    done[i] = true;
                    progress = true;
                    if (tc_exec(px, cr, err) != 0) {
                        mv_ok = false;
                        note(notes, "CREATE MATERIALIZED VIEW %s failed through the proxy: %s",
                             jstr(bm, "name"), err);
                    }
                    free(cr);
                }
                free(chk);
            }
        }
        free(done);
        json_t *m;
        json_array_foreach(mvs, i, m) {
            bool is_main = json_is_true(json_object_get(m, "main"));
            if (!is_main) {
                continue;       /* created above */
            }
            const char *sel = jstr(m, "sql");
            char *chk = tc_fmt("SELECT * FROM (%s) conf_chk LIMIT 0", sel);
            rc = tc_exec(dm, chk, err);
            free(chk);
            if (rc != 0 && !mv_ok) {
                /* it reads a view the proxy failed to create: not a setup error */
                note(notes, "view %s not created: it reads a view that failed", jstr(m, "name"));
                continue;
            }
            if (rc != 0) {
                outcome = "skip";
                snprintf(reason, sizeof(reason), "setup: view %s's SELECT rejected by MariaDB: %s",
                         jstr(m, "name"), err);
                json_decref(mvs);
                goto out;
            }
            char *cr = create_mv_sql(jstr(m, "name"), sel, c, notes);
            struct tc_res r;
            if (tc_query(px, cr, &r) != 0) {
                if (lost(r.err)) {
                    proxy_lost = true;
                }
                mv_ok = false;
                note(notes, "CREATE MATERIALIZED VIEW %s failed through the proxy: %u %s",
                     jstr(m, "name"), r.err, r.errmsg);
            }
            tc_res_free(&r);
            free(cr);
            if (proxy_lost) {
                json_decref(mvs);
                snprintf(reason, sizeof(reason), "proxy connection lost creating views");
                goto out;
            }
        }
    }
    json_decref(mvs);
    json_object_set_new(res, "mv_created", json_boolean(mv_ok));

    /* after_mv through the proxy */
    bool stale = false;             /* base DML after the view's last refresh */
    {
        size_t i;
        json_t *st;
        json_array_foreach(json_object_get(md, "after_mv"), i, st) {
            const char *sql = json_string_value(st);
            if (strncmp(sql, "--", 2) != 0) {
                if (is_dml(sql)) {
                    stale = true;
                }
                struct tc_res r;
                if (tc_query(px, sql, &r) != 0) {
                    note(notes, "after_mv[%zu] failed: %u %s", i, r.err, r.errmsg);
                    if (lost(r.err)) {
                        proxy_lost = true;
                        tc_res_free(&r);
                        snprintf(reason, sizeof(reason), "proxy connection lost in after_mv");
                        goto out;
                    }
                }
                tc_res_free(&r);
                continue;
            }
            const char *p = sql + 2;
            while (*p == ' ') {
                p++;
            }
            if (strncasecmp(p, "mv op:", 6) == 0) {
                p += 6;
                while (*p == ' ') {
                    p++;
                }
                if (starts_ci(p, "refresh")) {
                    stale = false;
                }
                if (tc_exec(px, p, err) != 0) {
                    note(notes, "mv op `%s` failed: %s", p, err);
                }
            } else if (strncasecmp(p, "session:", 8) == 0) {
                p += 8;
                while (*p == ' ') {
                    p++;
                }
                if (starts_ci(p, "set ")) {
                    const char *kv = p + 4;
                    while (*kv == ' ') {
                        kv++;
                    }
                    if (strncasecmp(kv, "enable_materialized_view_rewrite", 32) == 0) {
                        const char *eq = strchr(kv, '=');
                        rewrite_on = eq != NULL && truthy(eq + 1 + strspn(eq + 1, " "));
                        tc_exec(px,
                                rewrite_on ? "SET enable_materialized_view_rewrite = ON"
                                           : "SET enable_materialized_view_rewrite = OFF",
                                NULL);
                    }
                }
            } else if (strncasecmp(p, "partition ddl:", 14) == 0) {
                note(notes, "skipped partition ddl (base tables are not partitioned here): %s",
                     p + 14);
            } else {
                note(notes, "skipped pseudo-op: %.200s", p);
            }
        }
    }
    if (stale && strstr(jstr(c, "mv_refresh"), "ON COMMIT") != NULL) {
        /* Doris refreshes ON COMMIT views after the write; replay that */
        char *rf = tc_fmt("REFRESH MATERIALIZED VIEW %s AUTO", mv_name);
        if (tc_exec(px, rf, err) != 0) {
            note(notes, "ON COMMIT emulation refresh failed: %s", err);
        } else {
            note(notes, "ON COMMIT view: refreshed after the after_mv writes");
            stale = false;
        }
        free(rf);
    }
    json_object_set_new(res, "stale_at_query", json_boolean(stale));
    json_object_set_new(res, "rewrite_switch", json_boolean(rewrite_on));

    /* must the view be refused? (README: staleness, grace, disabled switch) */
    bool must_not = false;
    if (strcmp(expect, "fail") == 0) {
        const char *up = jstr(json_object_get(c, "mv_properties"), "use_for_rewrite");
        must_not = !rewrite_on || has_tag(c, "rewrite_disabled_by_session") ||
                   (up[0] != '\0' && !truthy(up)) || has_tag(c, "grace_period") ||
                   has_tag(c, "partition_union_compensation/stale_partitions") ||
                   (has_tag(c, "base_table_changed_after_mv") && stale);
    }
    json_object_set_new(res, "must_not_rewrite", json_boolean(must_not));

    const char *query = jstr(md, "query_sql");
    if (tc_now() - t0 > o.case_timeout) {
        snprintf(reason, sizeof(reason), "case time limit (%us) exceeded before the query",
                 o.case_timeout);
        goto out;
    }
    /* the query through the proxy first: writes just replayed must already
     * be visible (read-your-writes); EXPLAIN and the direct run follow */
    struct tc_res want, got;
    tc_query(px, query, &got);
    if (got.err != 0 && lost(got.err)) {
        proxy_lost = true;
        tc_res_free(&got);
        snprintf(reason, sizeof(reason), "proxy connection lost running the query");
        goto out;
    }
    if (tc_explain(px, query, &ex) != 0) {
        note(notes, "EXPLAIN REWRITE failed: %s", ex.err);
        if (mysql_errno(px) != 0 && lost(mysql_errno(px))) {
            proxy_lost = true;
            tc_res_free(&got);
            snprintf(reason, sizeof(reason), "proxy connection lost in EXPLAIN REWRITE");
            goto out;
        }
    }
    rewritten = ex.rewritten;
    json_object_set_new(res, "explain_ok", json_boolean(ex.ok));
    json_object_set_new(res, "chosen", json_string(ex.chosen));
    if (ex.sql != NULL && rewritten) {
        json_object_set_new(res, "rewritten_sql", json_string(ex.sql));
    }
    if (ex.detail != NULL) {
        json_object_set_new(res, "explain", json_string(ex.detail));
    }

    tc_query(dm, query, &want);
    if (want.err != 0 && !mv_ok && json_array_size(json_object_get(md, "base_mvs")) > 0) {
        snprintf(reason, sizeof(reason), "query needs a view the proxy did not create: %u %s",
                 want.err, want.errmsg);
        tc_res_free(&want);
        tc_res_free(&got);
        goto out;
    }
    if (want.err != 0) {
        outcome = "skip";
        snprintf(reason, sizeof(reason), "setup: query rejected by MariaDB: %u %s", want.err,
                 want.errmsg);
        tc_res_free(&want);
        tc_res_free(&got);
        goto out;
    }
    char diff[2048];
    int cmp = tc_res_compare(&want, &got, true, diff, sizeof(diff));
    rows_equal = cmp != 1;
    if (cmp == 1 && rewritten && stale && has_tag(c, "grace_period")) {
        /* within grace_period the view may lag; if a refresh makes the
         * rewritten answer equal, the difference was legal staleness */
        char *rf = tc_fmt("REFRESH MATERIALIZED VIEW %s COMPLETE", mv_name);
        struct tc_res again;
        char d2[2048];
        if (tc_exec(px, rf, err) == 0 && tc_query(px, query, &again) == 0 &&
            tc_res_compare(&want, &again, true, d2, sizeof(d2)) == 0) {
            stale_grace = true;
        }
        tc_res_free(&again);
        free(rf);
    }
    wrong = cmp == 1 && !stale_grace && !proxy_lost;
    json_object_set_new(res, "want_rows", json_integer(want.nrows));
    json_object_set_new(res, "got_rows", json_integer(got.nrows));
    if (cmp != 0) {
        json_object_set_new(res, "diff", json_string(diff));
    }
    tc_res_free(&want);
    tc_res_free(&got);

    if (proxy_lost) {
        snprintf(reason, sizeof(reason), "proxy connection lost running the query");
    } else if (cmp == 1) {
        snprintf(reason, sizeof(reason), "%s: %s",
                 stale_grace ? "rows differ (view stale within grace_period)" : "WRONG ROWS", diff);
    } else if (cmp == 2) {
        snprintf(reason, sizeof(reason), "column names differ: %s", diff);
    } else if (strcmp(expect, "success") == 0) {
        if (rewritten) {
            outcome = "pass";
        } else {
            snprintf(reason, sizeof(reason), "not rewritten%s", mv_ok ? "" : " (view not created)");
        }
    } else if (must_not && rewritten) {
        snprintf(reason, sizeof(reason),
                 "rewritten although staleness/grace/switch forbids the view");
    } else {
        outcome = "pass";
    }

out:
    if (strcmp(outcome, "fail") == 0 && reason[0] == '\0') {
        snprintf(reason, sizeof(reason), "failed");
    }
    if (px != NULL && !proxy_lost) {
        drop_views(px, db);
    }
    if (px != NULL) {
        mysql_close(px);
    }
    if (dm != NULL) {
        if (!o.keep) {
            char *d = tc_fmt("DROP DATABASE IF EXISTS %s", db);
            tc_exec(dm, d, NULL);
            free(d);
        }
        mysql_close(dm);
    }
    json_object_set_new(res, "outcome", json_string(outcome));
    json_object_set_new(res, "rewritten", json_boolean(rewritten));
    json_object_set_new(res, "rows_equal", json_boolean(rows_equal));
    json_object_set_new(res, "wrong_rows", json_boolean(wrong));
    json_object_set_new(res, "stale_within_grace", json_boolean(stale_grace));
    json_object_set_new(res, "proxy_lost", json_boolean(proxy_lost));
    json_object_set_new(res, "reason", json_string(reason));
    json_object_set_new(res, "notes", notes);
    json_object_set_new(res, "seconds", json_real(tc_now() - t0));
    tc_explain_free(&ex);
    return res;
}

/* ---- selection, workers, summary --------------------------------------- */

struct item {
    long line;                      /* 1-based line in the corpus */
    json_t *c;                      /* the case */
};

static int
worker(struct item *items, long n, int k, const char *outpath)
{
    mysql_library_init(0, NULL, NULL);
    FILE *f = fopen(outpath, "w");
    if (f == NULL) {
        perror(outpath);
        return 1;
    }
    for (long i = k; i < n; i += o.jobs) {
        json_t *r = run_case(items[i].c, items[i].line);
        char *txt = json_dumps(r, JSON_COMPACT);
        fprintf(f, "%s\n", txt);
        fflush(f);
        if (o.verbose) {
            const char *oc = json_string_value(json_object_get(r, "outcome"));
            printf("case %ld %-4s %s%s%s [%s] %s\n", items[i].line, oc,
                   json_is_true(json_object_get(r, "rewritten")) ? "rewritten" : "not-rewritten",
                   json_is_true(json_object_get(r, "wrong_rows")) ? " WRONG-ROWS" : "",
                   json_is_true(json_object_get(r, "must_not_rewrite")) ? " must-not" : "",
                   jstr(items[i].c, "expect"), jstr(r, "reason"));
            fflush(stdout);
        }
        free(txt);
        json_decref(r);
    }
    fclose(f);
    mysql_library_end();
    return 0;
}

static void
bump(json_t *obj, const char *key, json_t *r)
{
    json_t *b = json_object_get(obj, key);
    if (b == NULL) {
        b = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "total", 0, "passed", 0, "failed", 0,
                      "skipped", 0, "rewritten", 0, "wrong_rows", 0);
        json_object_set_new(obj, key, b);
    }
    const char *oc = json_string_value(json_object_get(r, "outcome"));
    const char *field = strcmp(oc, "pass") == 0 ? "passed" : strcmp(oc, "skip") == 0 ? "skipped"
                                                                                      : "failed";
    json_object_set_new(b, "total", json_integer(json_integer_value(json_object_get(b, "total")) + 1));
    json_object_set_new(b, field, json_integer(json_integer_value(json_object_get(b, field)) + 1));
    if (json_is_true(json_object_get(r, "rewritten"))) {
        json_object_set_new(b, "rewritten",
                            json_integer(json_integer_value(json_object_get(b, "rewritten")) + 1));
    }
    if (json_is_true(json_object_get(r, "wrong_rows"))) {
        json_object_set_new(b, "wrong_rows",
                            json_integer(json_integer_value(json_object_get(b, "wrong_rows")) + 1));
    }
}

static int
cmp_line(const void *a, const void *b)
{
    long x = json_integer_value(json_object_get(*(json_t *const *)a, "line"));
    long y = json_integer_value(json_object_get(*(json_t *const *)b, "line"));
    return (x > y) - (x < y);
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: conformance [--file F] [--case N[,N...]] [--limit N] [--tag T] [--expect E]\n"
            "                   [--stride S [--offset K]] [--jobs N] [--out results.json]\n"
            "                   [--verbose] [--keep] [--stmt-timeout S] [--case-timeout S]\n"
            "env: MVP_DB_HOST MVP_DB_PORT MVP_PROXY_BIN (or MVP_PROXY_PORT) MVP_SHARED_DIR\n");
}

int
main(int argc, char **argv)
{
    o.jobs = 1;
    o.stride = 1;
    o.stmt_timeout = DEFAULT_STMT_TIMEOUT;
    o.case_timeout = DEFAULT_CASE_TIMEOUT;
    static struct option lo[] = {
        {"file", required_argument, 0, 'f'},   {"case", required_argument, 0, 'c'},
        {"limit", required_argument, 0, 'l'},  {"tag", required_argument, 0, 't'},
        {"expect", required_argument, 0, 'e'}, {"stride", required_argument, 0, 's'},
        {"offset", required_argument, 0, 'k'}, {"jobs", required_argument, 0, 'j'},
        {"out", required_argument, 0, 'o'},    {"verbose", no_argument, 0, 'v'},
        {"keep", no_argument, 0, 'K'},         {"stmt-timeout", required_argument, 0, 'T'},
        {"case-timeout", required_argument, 0, 'C'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "f:c:l:t:e:s:k:j:o:vKT:C:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'f': o.file = optarg; break;
        case 'c': {
            char *dup = strdup(optarg), *save = NULL;
            for (char *t = strtok_r(dup, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
                o.only = realloc(o.only, sizeof(long) * (size_t)(o.nonly + 1));
                o.only[o.nonly++] = atol(t);
            }
            free(dup);
            break;
        }
        case 'l': o.limit = atol(optarg); break;
        case 't': o.tag = optarg; break;
        case 'e': o.expect = optarg; break;
        case 's': o.stride = atol(optarg) > 0 ? atol(optarg) : 1; break;
        case 'k': o.offset = atol(optarg); break;
        case 'j': o.jobs = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
        case 'o': o.out = optarg; break;
        case 'v': o.verbose = true; break;
        case 'K': o.keep = true; break;
        case 'T': o.stmt_timeout = (unsigned)atoi(optarg); break;
        case 'C': o.case_timeout = (unsigned)atoi(optarg); break;
        default: usage(); return ch == 'h' ? 0 : 2;
        }
    }
    char deffile[4096];
    if (o.file == NULL) {
        snprintf(deffile, sizeof(deffile), "%s/conformance/doris_visible.jsonl",
                 tc_env("MVP_SHARED_DIR", "../shared"));
        o.file = deffile;
    }
    env.dbhost = tc_env("MVP_DB_HOST", "127.0.0.1");
    env.dbport = atoi(tc_env("MVP_DB_PORT", "3306"));
    env.user = tc_env("MVP_DB_USER", "root");
    env.pass = getenv("MVP_DB_PASSWORD") != NULL ? getenv("MVP_DB_PASSWORD") : "";

    /* load and select */
    FILE *f = fopen(o.file, "r");
    if (f == NULL) {
        fprintf(stderr, "conformance: %s: %s\n", o.file, strerror(errno));
        return 2;
    }
    struct item *items = NULL;
    long n = 0, seen = 0, line = 0;
    char *buf = NULL;
    size_t cap = 0;
    while (getline(&buf, &cap, f) > 0) {
        line++;
        json_error_t je;
        json_t *c = json_loads(buf, 0, &je);
        if (c == NULL) {
            fprintf(stderr, "conformance: %s:%ld: %s\n", o.file, line, je.text);
            return 2;
        }
        bool take = true;
        if (o.nonly > 0) {
            take = false;
            for (int i = 0; i < o.nonly; i++) {
                take = take || o.only[i] == line;
            }
        }
        if (take && o.tag != NULL && !has_tag(c, o.tag)) {
            take = false;
        }
        if (take && o.expect != NULL && strcmp(jstr(c, "expect"), o.expect) != 0) {
            take = false;
        }
        if (take) {
            take = (seen++ % o.stride) == (o.offset % o.stride);
        }
        if (take && (o.limit == 0 || n < o.limit)) {
            items = realloc(items, sizeof(*items) * (size_t)(n + 1));
            items[n].line = line;
            items[n].c = c;
            n++;
        } else {
            json_decref(c);
        }
    }
    free(buf);
    fclose(f);
    if (n == 0) {
        fprintf(stderr, "conformance: no case selected\n");
        return 2;
    }

    /* the proxy */
    struct tc_proxy proxy;
    memset(&proxy, 0, sizeof(proxy));
    const char *bin = getenv("MVP_PROXY_BIN");
    char logpath[256], meta[64];
    snprintf(logpath, sizeof(logpath), "/tmp/conformance-mvproxy-%d.log", (int)getpid());
    snprintf(meta, sizeof(meta), "mvp_conf_meta");
    char err[TC_ERRLEN];
    mysql_library_init(0, NULL, NULL);
    if (getenv("MVP_PROXY_PORT") != NULL) {
        env.proxy_port = atoi(getenv("MVP_PROXY_PORT"));
    } else {
        if (bin == NULL) {
            char guess[4096];
            snprintf(guess, sizeof(guess), "%s/mvproxy", tc_env("MVP_BUILD_DIR", "."));
            bin = strdup(guess);
        }
        /* a fresh catalog: drop our metadata schema of an earlier run */
        MYSQL *dm = tc_connect(env.dbhost, env.dbport, env.user, env.pass, NULL, 30, err);
        if (dm == NULL) {
            fprintf(stderr, "conformance: backend: %s\n", err);
            return 2;
        }
        tc_exec(dm, "DROP DATABASE IF EXISTS mvp_conf_meta", NULL);
        mysql_close(dm);
        if (tc_proxy_start(&proxy, bin, env.dbhost, env.dbport, meta, logpath, env.user, env.pass,
                           err) != 0) {
            fprintf(stderr, "conformance: %s\n", err);
            return 2;
        }
        env.proxy_port = proxy.port;
        fprintf(stderr, "conformance: mvproxy pid %d on port %d, log %s\n", (int)proxy.pid,
                proxy.port, logpath);
    }
    mysql_library_end();

    double t0 = tc_now();
    if (o.jobs > n) {
        o.jobs = (int)n;
    }
    pid_t *wp = calloc((size_t)o.jobs, sizeof(pid_t));
    char **wout = calloc((size_t)o.jobs, sizeof(char *));
    fflush(stdout);
    fflush(stderr);
    for (int k = 0; k < o.jobs; k++) {
        wout[k] = tc_fmt("/tmp/conformance-%d-w%d.jsonl", (int)getpid(), k);
        wp[k] = fork();
        if (wp[k] == 0) {
            _exit(worker(items, n, k, wout[k]));
        }
    }
    int running = o.jobs, crashes = 0;
    json_t *crash_list = json_array();
    while (running > 0) {
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (proxy.pid != 0 && p == proxy.pid) {
            char d[128];
            tc_describe_status(st, d, sizeof(d));
            crashes++;
            json_array_append_new(crash_list, json_string(d));
            fprintf(stderr, "conformance: mvproxy DIED (%s) after %.0fs; restarting on port %d\n",
                    d, tc_now() - t0, proxy.port);
            /* restart on the same port so that the workers keep going */
            int port = proxy.port;
            for (int tries = 0; tries < 20; tries++) {
                pid_t c = fork();
                if (c == 0) {
                    int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
                    if (fd >= 0) {
                        dup2(fd, 2);
                        dup2(fd, 1);
                    }
                    char lst[64], be[300];
                    snprintf(lst, sizeof(lst), "127.0.0.1:%d", port);
                    snprintf(be, sizeof(be), "%s:%d", env.dbhost, env.dbport);
                    execl(bin, bin, "--listen", lst, "--backend", be, "--service-user", "mvproxy",
                          "--service-password", "mvproxy", "--meta-schema", meta, "--threads",
                          "2", "--log-level", "warn", (char *)NULL);
                    _exit(127);
                }
                usleep(500 * 1000);
                int st2;
                if (waitpid(c, &st2, WNOHANG) == c) {
                    continue;
                }
                proxy.pid = c;
                break;
            }
            continue;
        }
        for (int k = 0; k < o.jobs; k++) {
            if (wp[k] == p) {
                running--;
            }
        }
    }
    bool stopped_clean = true;
    if (proxy.pid != 0) {
        if (!tc_proxy_alive(&proxy)) {
            char d[128];
            tc_describe_status(proxy.status, d, sizeof(d));
            crashes++;
            json_array_append_new(crash_list, json_string(d));
        } else {
            stopped_clean = tc_proxy_stop(&proxy);
        }
    }
    double elapsed = tc_now() - t0;

    /* merge */
    json_t *results = json_array();
    for (int k = 0; k < o.jobs; k++) {
        FILE *rf = fopen(wout[k], "r");
        char *lb = NULL;
        size_t lc = 0;
        while (rf != NULL && getline(&lb, &lc, rf) > 0) {
            json_t *r = json_loads(lb, 0, NULL);
            if (r != NULL) {
                json_array_append_new(results, r);
            }
        }
        free(lb);
        if (rf != NULL) {
            fclose(rf);
        }
        unlink(wout[k]);
    }
    size_t nr = json_array_size(results);
    json_t **sorted = calloc(nr + 1, sizeof(json_t *));
    for (size_t i = 0; i < nr; i++) {
        sorted[i] = json_array_get(results, i);
    }
    qsort(sorted, nr, sizeof(json_t *), cmp_line);
    json_t *cases = json_array();
    long passed = 0, failed = 0, skipped = 0, rewr = 0, wrong = 0, lostn = 0, graced = 0;
    long mustnot_viol = 0, missing = n - (long)nr;
    json_t *by_tag = json_object(), *by_expect = json_object();
    for (size_t i = 0; i < nr; i++) {
        json_t *r = sorted[i];
        json_array_append(cases, r);
        const char *oc = json_string_value(json_object_get(r, "outcome"));
        passed += strcmp(oc, "pass") == 0;
        skipped += strcmp(oc, "skip") == 0;
        failed += strcmp(oc, "fail") == 0;
        rewr += json_is_true(json_object_get(r, "rewritten"));
        wrong += json_is_true(json_object_get(r, "wrong_rows"));
        lostn += json_is_true(json_object_get(r, "proxy_lost"));
        graced += json_is_true(json_object_get(r, "stale_within_grace"));
        mustnot_viol += strcmp(oc, "fail") == 0 &&
                        json_is_true(json_object_get(r, "must_not_rewrite")) &&
                        json_is_true(json_object_get(r, "rewritten"));
        bump(by_expect, json_string_value(json_object_get(r, "expect")), r);
        size_t ti;
        json_t *t;
        json_array_foreach(json_object_get(r, "tags"), ti, t) {
            bump(by_tag, json_string_value(t), r);
        }
    }
    failed += missing;
    json_t *summary = json_pack(
        "{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:o, s:o, s:o, s:s}", "total",
        (json_int_t)n, "passed", (json_int_t)passed, "failed", (json_int_t)failed, "skipped",
        (json_int_t)skipped, "rewritten", (json_int_t)rewr, "wrong_rows", (json_int_t)wrong,
        "proxy_lost", (json_int_t)lostn, "stale_within_grace", (json_int_t)graced,
        "must_not_rewrite_violations", (json_int_t)mustnot_viol, "proxy_crashes",
        (json_int_t)crashes, "seconds", elapsed, "by_tag", by_tag, "by_expect", by_expect,
        "crashes", crash_list, "corpus", o.file);

    /* report */
    printf("\n== conformance: %ld cases in %.0fs (%d jobs)\n", n, elapsed, o.jobs);
    printf("total %ld  passed %ld  failed %ld  skipped %ld  rewritten %ld  wrong-rows %ld\n", n,
           passed, failed, skipped, rewr, wrong);
    printf("proxy-lost %ld  proxy-crashes %d  stale-within-grace %ld  must-not-rewrite violated "
           "%ld%s\n",
           lostn, crashes, graced, mustnot_viol, missing > 0 ? "  (some cases gave no result)" : "");
    const char *ek;
    json_t *ev;
    printf("by expect:\n");
    json_object_foreach(by_expect, ek, ev) {
        printf("  %-8s total %3lld passed %3lld failed %3lld skipped %3lld rewritten %3lld "
               "wrong %lld\n",
               ek, json_integer_value(json_object_get(ev, "total")),
               json_integer_value(json_object_get(ev, "passed")),
               json_integer_value(json_object_get(ev, "failed")),
               json_integer_value(json_object_get(ev, "skipped")),
               json_integer_value(json_object_get(ev, "rewritten")),
               json_integer_value(json_object_get(ev, "wrong_rows")));
    }
    printf("by tag (sorted by failures):\n");
    {
        size_t nt = json_object_size(by_tag), ti = 0;
        const char **names = calloc(nt + 1, sizeof(char *));
        json_object_foreach(by_tag, ek, ev) {
            names[ti++] = ek;
        }
        for (size_t a = 0; a < nt; a++) {
            for (size_t b = a + 1; b < nt; b++) {
                long fa = json_integer_value(json_object_get(json_object_get(by_tag, names[a]),
                                                             "failed"));
                long fb = json_integer_value(json_object_get(json_object_get(by_tag, names[b]),
                                                             "failed"));
                if (fb > fa) {
                    const char *x = names[a];
                    names[a] = names[b];
                    names[b] = x;
                }
            }
        }
        for (size_t a = 0; a < nt; a++) {
            ev = json_object_get(by_tag, names[a]);
            printf("  %-48s total %4lld passed %4lld failed %4lld skipped %3lld rewritten %4lld "
                   "wrong %lld\n",
                   names[a], json_integer_value(json_object_get(ev, "total")),
                   json_integer_value(json_object_get(ev, "passed")),
                   json_integer_value(json_object_get(ev, "failed")),
                   json_integer_value(json_object_get(ev, "skipped")),
                   json_integer_value(json_object_get(ev, "rewritten")),
                   json_integer_value(json_object_get(ev, "wrong_rows")));
        }
        free(names);
    }
    if (wrong > 0) {
        printf("WRONG ROWS:\n");
        for (size_t i = 0; i < nr; i++) {
            if (json_is_true(json_object_get(sorted[i], "wrong_rows"))) {
                printf("  case %lld: %s\n    sql: %s\n",
                       json_integer_value(json_object_get(sorted[i], "line")),
                       jstr(sorted[i], "reason"), jstr(sorted[i], "rewritten_sql"));
            }
        }
    }
    if (o.out != NULL) {
        json_t *doc = json_pack("{s:o, s:o}", "summary", summary, "cases", cases);
        if (json_dump_file(doc, o.out, JSON_INDENT(1)) != 0) {
            fprintf(stderr, "conformance: cannot write %s\n", o.out);
        }
        json_decref(doc);
    } else {
        json_decref(summary);
        json_decref(cases);
    }
    printf("%ld passed, %ld failed, %ld skipped\n", passed, failed, skipped);
    (void)stopped_clean;
    free(sorted);
    json_decref(results);
    for (int k = 0; k < o.jobs; k++) {
        free(wout[k]);
    }
    free(wout);
    free(wp);
    for (long i = 0; i < n; i++) {
        json_decref(items[i].c);
    }
    free(items);
    return (wrong > 0 || crashes > 0 || missing > 0) ? 1 : 0;
}
