/*
 * cat_cost.c - the cost-based choice between a rewrite and the original
 * statement (issue 12, part 1; Doris and StarRocks keep the original plan
 * as a candidate and choose by cost).
 *
 * View matching says a view CAN answer a block; whether it SHOULD is the
 * backend's question: a selective query that MariaDB answers through a base
 * index can become a scan of a wide view. So for each statement text the
 * proxy rewrites, the backend's own optimizer estimates both plans:
 *
 *   worker: rewrite decided ─> cat_cost_judge(db, original, rewrite, version)
 *             cached and current? ─yes─> REWRITE or ORIGINAL
 *             first time: remembered; UNKNOWN: the rewrite goes as before
 *                 (view matching's own choice)
 *             second time: request queued (texts copied), UNKNOWN
 *   cost thread (service connection, max_statement_time 1 s):
 *             USE db; EXPLAIN FORMAT=JSON original; EXPLAIN FORMAT=JSON rewrite
 *             -> row reads of each plan (cat_cost_plan_reads) -> cache
 *
 * The estimate of a plan is the number of rows its nested loops read: per
 * join order, each table's `rows` times the rows that reach it (the
 * earlier tables' rows times their `filtered`), summed, plus the same for
 * every materialized derived table (its temporary result is not counted
 * again when the outer plan scans it) and subquery. MariaDB 10.11's JSON plan
 * has no cost field, and its Last_query_cost is 0 for any statement with a
 * subquery (every rewrite has one: the privilege probe), so rows are the
 * figure both plans have. The rule (cat_cost_compare): the original is
 * kept when the rewrite would read at least COST_FLOOR rows and more than
 * COST_MARGIN times the original's; below the floor both are fast and the
 * view's answer is kept. Entries are keyed by (database, exact text) and
 * dropped when the catalog version moves or after COST_TTL_MS (a refresh
 * changes the view's size); at most COST_MAX of them (oldest dropped).
 * Statements under a non-default sql_mode are not estimated (the service
 * connection parses in the default mode): UNKNOWN.
 */
#include "cat_cost.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <mysql.h>
#include <uthash.h>

#include "cat_core.h"
#include "cat_engine.h"
#include "cat_util.h"
#include "rw_limits.h"

/* Rows below which a rewrite is never refused for cost. */
#define COST_FLOOR 1000.0
/* The original is kept when the rewrite reads more than this many times its rows. */
#define COST_MARGIN 1.5
/* An estimate is trusted this long (ms). */
#define COST_TTL_MS (10 * 60 * 1000)
/* Entries kept. */
#define COST_MAX 4096
/* Longer statement texts are not estimated (bytes): the cache keeps each
 * text whole, so COST_MAX of them stay within 64 MiB. */
#define COST_TEXT_MAX 16384
/* Requests waiting at most; more are dropped (judged again next time). */
#define COST_QUEUE_MAX 64

enum cost_state {
    COST_SEEN = 0,                  /* seen once, nothing asked yet (a text that never comes
                                     * back costs the backend nothing) */
    COST_PENDING,                   /* queued or running, no figures yet */
    COST_DONE,                      /* orig_reads / rew_reads hold the estimates */
    COST_FAILED,                    /* the backend could not estimate one of them */
};

struct cost_entry {
    char *key;                      /* db '\x1f' original text (hash key, owned) */
    uint64_t version;               /* catalog version of the estimate */
    int64_t made_ms;                /* when it was made */
    enum cost_state state;          /* where the estimate is */
    double orig_reads;              /* estimated row reads of the original */
    double rew_reads;               /* ... of the rewrite */
    char *db;                       /* pending: database or NULL (owned) */
    char *orig;                     /* pending: texts (owned) */
    char *rew;
    struct cost_entry *qnext;       /* request queue */
    UT_hash_handle hh;
};

static struct {
    pthread_mutex_t mu;             /* guards everything below */
    pthread_cond_t cv;              /* wakes the thread: a request, or stop */
    struct cost_entry *cache;       /* uthash by key, insertion order */
    struct cost_entry *qhead, *qtail; /* requests */
    size_t qlen;                    /* their number */
    bool running, stop;             /* thread state */
    pthread_t thread;
} g_cost = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* ---- the estimate of a JSON plan ---- */

static double block_reads(json_t *node);

/* The table object of a nested-loop element (directly, or under a join
 * wrapper such as "block-nl-join" / "duplicates_removal"), or NULL. */
static json_t *
element_table(json_t *el)
{
    const char *k;
    json_t *v, *t = json_object_get(el, "table");
    if (json_is_object(t)) {
        return t;
    }
    json_object_foreach(el, k, v) {
        if (json_is_object(v) && json_is_object(json_object_get(v, "table"))) {
            return json_object_get(v, "table");
        }
    }
    return NULL;
}

static double
num(json_t *v, double dflt)
{
    return json_is_number(v) ? json_number_value(v) : dflt;
}

/* Row reads of a nested loop ARR: each table's rows times the rows reaching it. */
static double
loop_reads(json_t *arr)
{
    double prefix = 1.0, total = 0.0;
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el) {
        json_t *t = json_is_object(el) ? element_table(el) : NULL;
        double rows, filt;
        if (t == NULL) {
            total += prefix * block_reads(el);
            continue;
        }
        rows = num(json_object_get(t, "rows"), 1.0);
        filt = num(json_object_get(t, "filtered"), 100.0) / 100.0;
        /* a materialized derived table: its rows were read by its own plan
         * (counted once, below); scanning the temporary result is not
         * counted again */
        if (json_object_get(t, "materialized") == NULL) {
            total += prefix * rows;
        }
        /* a derived table or subquery attached to it: its own reads */
        total += block_reads(t);
        prefix *= rows * filt > 1.0 ? rows * filt : 1.0;
    }
    return total;
}

/* Row reads of every nested loop under NODE (any nesting: query_block,
 * filesort, temporary_table, materialized, subqueries, union_result ...). */
static double
block_reads(json_t *node)
{
    double total = 0.0;
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_array(node)) {
        json_array_foreach(node, i, v) {
            total += block_reads(v);
        }
        return total;
    }
    if (!json_is_object(node)) {
        return 0.0;
    }
    json_object_foreach(node, k, v) {
        if (strcmp(k, "nested_loop") == 0 && json_is_array(v)) {
            total += loop_reads(v);
        } else if (strcmp(k, "table") == 0 && json_is_object(v) &&
                   json_object_get(v, "rows") != NULL) {
            /* a single-table block without a nested_loop wrapper */
            total += num(json_object_get(v, "rows"), 1.0) + block_reads(v);
        } else if (json_is_object(v) || json_is_array(v)) {
            total += block_reads(v);
        }
    }
    return total;
}

double
cat_cost_plan_reads(const char *json, size_t len)
{
    json_error_t e;
    json_t *root = json_loadb(json, len, 0, &e);
    double r;
    if (root == NULL) {
        return -1.0;
    }
    r = block_reads(root);
    json_decref(root);
    return r;
}

enum cat_cost_verdict
cat_cost_compare(double orig_reads, double rew_reads)
{
    if (orig_reads < 0 || rew_reads < 0) {
        return CAT_COST_UNKNOWN;
    }
    if (rew_reads >= COST_FLOOR && rew_reads > orig_reads * COST_MARGIN) {
        return CAT_COST_ORIGINAL;
    }
    return CAT_COST_REWRITE;
}

/* ---- estimating on a connection ---- */

double
cat_cost_explain(MYSQL *c, const char *sql, size_t len)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    unsigned long *lens;
    double r = -1.0;
    cat_buf_puts(&q, "EXPLAIN FORMAT=JSON ");
    cat_buf_add(&q, sql, len);
    if (mysql_real_query(c, q.p, q.len) == 0 && (res = mysql_store_result(c)) != NULL) {
        if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL &&
            (lens = mysql_fetch_lengths(res)) != NULL) {
            r = cat_cost_plan_reads(row[0], lens[0]);
        }
        mysql_free_result(res);
    }
    cat_buf_free(&q);
    return r;
}

/* ---- the cache and the thread ---- */

static char *
make_key(const char *db, const char *orig, size_t olen, size_t *klen)
{
    size_t dl = db != NULL ? strlen(db) : 0;
    char *k = cat_xmalloc(dl + 1 + olen + 1);
    memcpy(k, db != NULL ? db : "", dl);
    k[dl] = '\x1f';
    memcpy(k + dl + 1, orig, olen);
    k[dl + 1 + olen] = '\0';
    *klen = dl + 1 + olen;
    return k;
}

static void
entry_free(struct cost_entry *e)
{
    free(e->key);
    free(e->db);
    free(e->orig);
    free(e->rew);
    free(e);
}

enum cat_cost_verdict
cat_cost_judge(const char *db, uint32_t sql_mode, const char *orig, size_t olen, const char *rew,
               size_t rlen, uint64_t version, int64_t now_ms)
{
    struct cost_entry *e = NULL;
    enum cat_cost_verdict v = CAT_COST_UNKNOWN;
    size_t klen;
    char *key;
    if (sql_mode != 0 || olen > COST_TEXT_MAX || rlen > 4 * COST_TEXT_MAX) {
        return CAT_COST_UNKNOWN;
    }
    key = make_key(db, orig, olen, &klen);
    pthread_mutex_lock(&g_cost.mu);
    if (!g_cost.running) {
        pthread_mutex_unlock(&g_cost.mu);
        free(key);
        return CAT_COST_UNKNOWN;
    }
    HASH_FIND(hh, g_cost.cache, key, klen, e);
    if (e != NULL && e->state != COST_PENDING &&
        (e->version != version || now_ms - e->made_ms > COST_TTL_MS)) {
        HASH_DEL(g_cost.cache, e);
        entry_free(e);
        e = NULL;
    }
    if (e != NULL && e->state == COST_SEEN) {
        /* the second time: worth the two EXPLAINs */
        free(key);
        if (g_cost.qlen < COST_QUEUE_MAX) {
            e->state = COST_PENDING;
            e->version = version;
            e->db = db != NULL ? cat_xstrdup(db) : NULL;
            e->orig = cat_xstrndup(orig, olen);
            e->rew = cat_xstrndup(rew, rlen);
            if (g_cost.qtail != NULL) {
                g_cost.qtail->qnext = e;
            } else {
                g_cost.qhead = e;
            }
            g_cost.qtail = e;
            g_cost.qlen++;
            pthread_cond_signal(&g_cost.cv);
        }
        pthread_mutex_unlock(&g_cost.mu);
        return CAT_COST_UNKNOWN;
    }
    if (e != NULL) {
        free(key);
        if (e->state == COST_DONE) {
            v = cat_cost_compare(e->orig_reads, e->rew_reads);
        }
        pthread_mutex_unlock(&g_cost.mu);
        return v;
    }
    if (HASH_COUNT(g_cost.cache) >= COST_MAX) {
        struct cost_entry *old, *tmp;
        HASH_ITER(hh, g_cost.cache, old, tmp) {
            if (old->state != COST_PENDING) {
                HASH_DEL(g_cost.cache, old);
                entry_free(old);
                break;
            }
        }
    }
    /* the first time: remembered only */
    e = cat_xcalloc(1, sizeof(*e));
    e->key = key;
    e->version = version;
    e->made_ms = now_ms;
    e->state = COST_SEEN;
    HASH_ADD_KEYPTR(hh, g_cost.cache, e->key, klen, e);
    pthread_mutex_unlock(&g_cost.mu);
    return CAT_COST_UNKNOWN;
}

static void *
cost_main(void *arg)
{
    MYSQL *c = NULL;
    char err[512];
    char *cur_db = NULL;
    (void)arg;
    pthread_mutex_lock(&g_cost.mu);
    while (!g_cost.stop) {
        struct cost_entry *e = g_cost.qhead;
        char *db, *orig, *rew;
        double ro = -1.0, rr = -1.0;
        bool db_ok = true;
        if (e == NULL) {
            pthread_cond_wait(&g_cost.cv, &g_cost.mu);
            continue;
        }
        g_cost.qhead = e->qnext;
        if (g_cost.qhead == NULL) {
            g_cost.qtail = NULL;
        }
        g_cost.qlen--;
        e->qnext = NULL;
        /* the texts leave the entry; a PENDING entry is dropped only by
         * cat_cost_stop, which first joins this thread */
        db = e->db;
        orig = e->orig;
        rew = e->rew;
        e->db = e->orig = e->rew = NULL;
        pthread_mutex_unlock(&g_cost.mu);
        if (c == NULL && (c = cat_connect_timeout(5, err, sizeof(err))) != NULL) {
            (void)cat_q(c, "SET SESSION max_statement_time = 1", err, sizeof(err), NULL);
            free(cur_db);
            cur_db = NULL;
        }
        if (c != NULL && db != NULL && (cur_db == NULL || strcmp(cur_db, db) != 0)) {
            db_ok = mysql_select_db(c, db) == 0;
            free(cur_db);
            cur_db = db_ok ? cat_xstrdup(db) : NULL;
        }
        if (c != NULL && db_ok && (db != NULL || cur_db == NULL)) {
            ro = cat_cost_explain(c, orig, strlen(orig));
            rr = ro >= 0 ? cat_cost_explain(c, rew, strlen(rew)) : -1.0;
            if (ro < 0 && mysql_errno(c) >= 2000) {
                mysql_close(c); /* client-side error: the connection is gone */
                c = NULL;
            }
        }
        cat_log(CAT_LOG_DEBUG, "cost: estimated row reads: original %.0f, rewrite %.0f", ro, rr);
        free(db);
        free(orig);
        free(rew);
        pthread_mutex_lock(&g_cost.mu);
        e->state = ro < 0 || rr < 0 ? COST_FAILED : COST_DONE;
        e->orig_reads = ro;
        e->rew_reads = rr;
        e->made_ms = cat_now_ms();
    }
    pthread_mutex_unlock(&g_cost.mu);
    free(cur_db);
    if (c != NULL) {
        mysql_close(c);
    }
    return NULL;
}

int
cat_cost_start(void)
{
    pthread_mutex_lock(&g_cost.mu);
    if (g_cost.running) {
        pthread_mutex_unlock(&g_cost.mu);
        return 0;
    }
    g_cost.stop = false;
    if (rw_thread_create(&g_cost.thread, cost_main, NULL, false) != 0) {
        pthread_mutex_unlock(&g_cost.mu);
        cat_log(CAT_LOG_WARN, "cost: cannot start the estimate thread; rewrites are not "
                              "compared with the original");
        return -1;
    }
    g_cost.running = true;
    pthread_mutex_unlock(&g_cost.mu);
    return 0;
}

void
cat_cost_stop(void)
{
    struct cost_entry *e, *tmp;
    pthread_mutex_lock(&g_cost.mu);
    if (!g_cost.running) {
        pthread_mutex_unlock(&g_cost.mu);
        return;
    }
    g_cost.stop = true;
    pthread_cond_broadcast(&g_cost.cv);
    pthread_mutex_unlock(&g_cost.mu);
    pthread_join(g_cost.thread, NULL);
    pthread_mutex_lock(&g_cost.mu);
    HASH_ITER(hh, g_cost.cache, e, tmp) {
        HASH_DEL(g_cost.cache, e);
        entry_free(e);
    }
    g_cost.qhead = g_cost.qtail = NULL;
    g_cost.qlen = 0;
    g_cost.running = false;
    pthread_mutex_unlock(&g_cost.mu);
}
