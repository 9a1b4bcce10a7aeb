/*
 * cat_binlog.c - freshness from the backend's binary log (SPEC §5, "the
 * exact source"). A follower thread reads the binlog as a replica with
 * MariaDB Connector/C's replication API (<mariadb_rpl.h>: mariadb_rpl_init,
 * mariadb_rpl_optionsv, mariadb_rpl_open = COM_BINLOG_DUMP,
 * mariadb_rpl_fetch, mariadb_rpl_close; event formats: MariaDB KB
 * "Replication Protocol" and "Binary Log Event" pages) and marks the views
 * over every changed table stale through the catalog's one marking path
 * (cat_fresh.c cat_mark_table / cat_mark_name).
 *
 *   cat_init ─> cat_binlog_start: @@log_bin, @@binlog_format, SHOW MASTER
 *               STATUS, privilege ─no─> warn, FreshnessSource =
 *               "proxy-dml-only (reason)", done
 *                     │ yes: position = stored (meta.binlog_position) or end
 *                     v
 *   follower thread (replication connection + side connection)
 *     SET @master_binlog_checksum, @mariadb_slave_capability=4 (GTID events),
 *         @master_heartbeat_period=1 s; COM_BINLOG_DUMP(file, pos, server id)
 *     loop mariadb_rpl_fetch:
 *       ROTATE                      -> file, pos (read from the raw event:
 *                                      Connector/C 3.3 misparses it, see
 *                                      parse_rotate)
 *       GTID                        -> group starts; table map cleared
 *       TABLE_MAP                   -> table id -> "db.table" (skip flag) and
 *                                      its column layout (cat_ri_table_parse)
 *       WRITE/UPDATE/DELETE_ROWS    -> partitioned views over db.table: the
 *         (v1, v2 and MariaDB's        partition column of each row image marks
 *          compressed variants,        exactly its partitions (cat_part_rows_mark);
 *          inflated by Connector/C)    undecodable: the probe (cat_part_defer);
 *                                      other views: cat_mark_table(db.table, time)
 *       QUERY / QUERY_COMPRESSED,   -> BEGIN/COMMIT/ROLLBACK/XA/SAVEPOINT: group
 *       EXECUTE_LOAD_QUERY             bookkeeping; else the write scanner
 *                                      (cat_scan_writes) on the text with the
 *                                      event's default db (DDL: TRUNCATE, ALTER,
 *                                      DROP, RENAME; statement-based DML)
 *       XID / COMMIT / standalone   -> group ends: safe resume position
 *     every second (when a group touching user tables ended since the last
 *     time) and at stop: cat_fresh_flush_sync (the marks are stored), then
 *     UPSERT meta.binlog_position = "<server_id> <pos> <file>"
 *
 * Time of a change: the event header's timestamp (seconds; the statement's
 * start, which is earlier than its commit, so the estimate errs on the safe
 * side), capped at the moment the follower saw it. stale_since takes the
 * EARLIEST unreflected change (cat_mark_table lowers it).
 *
 * Skipped (never mark): tables in the metadata schema (the catalog's own
 * writes), tables whose name contains "__mvp_" and Query events whose text
 * does (a refresh builds `<mv>__mvp_new`, RENAMEs it in and drops
 * `<mv>__mvp_old`; its INSERT ... SELECT names the base tables, so under
 * STATEMENT/MIXED logging the whole statement must be skipped, not just the
 * staging name; this covers refreshes by other proxies too), and Query
 * events of connections this proxy's refresh code registered
 * (cat_binlog_own_conn; kept a minute after the refresh for late events).
 * Row events carry no thread id in MariaDB (the GTID event replaces BEGIN),
 * so for them the name rule is the one that applies.
 *
 * Refresh ordering rule: the follower never suppresses an event because a
 * refresh ran. A refresh reads change_seq before it reads the base tables
 * and settles to "fresh" only when no mark arrived meanwhile
 * (cat_refresh.c). An event that arrives after the refresh ended marks the
 * view stale again, even when its change committed before the refresh
 * started and is therefore reflected: binlog timestamps are statement-start
 * seconds and a binlog write precedes the engine commit, so nothing proves
 * the refresh saw it. That costs at most a needless refresh; dropping the
 * mark could serve stale rows. Marks are never lost either: an event seen
 * during a refresh moves change_seq and the refresh settles to "stale since
 * its start".
 *
 * What it sees: every committed change written to the binlog of the
 * backend it follows, whoever made it (proxy clients, direct clients,
 * replication applier threads, events, triggers' row changes under ROW
 * logging), with the table of each row event, and DDL. What it cannot see
 * or does imprecisely:
 *   - sessions with sql_log_bin=0, and databases filtered out by
 *     binlog_do_db / binlog_ignore_db: not in the binlog at all;
 *   - writes on another server (a different primary after failover): the
 *     stored position then belongs to another server_id, so at start every
 *     view is marked stale;
 *   - ROW-logged changes are exact per table, and per partition for
 *     partitioned views whose partition column the row images carry in a
 *     decodable form (cat_rowimage.h); otherwise the partition probe
 *     narrows them (one fingerprint scan of the base table) or, without a
 *     probe baseline, the view is marked whole;
 *   - Query events are scanned conservatively (every identifier of a write
 *     statement is taken as a table), so statement-based INSERT ... SELECT
 *     also marks views over its source tables, and an ALTER MATERIALIZED
 *     VIEW ... RENAME marks the renamed view (its storage table is RENAMEd);
 *   - a lag: a change is seen a moment (typically under a millisecond on a
 *     local backend) after its commit; a query in that window may still be
 *     answered from the view. DML sent through the proxy is marked at
 *     dispatch as before, so read-your-writes through the proxy holds;
 *   - writes made while no proxy ran are seen after the next start from
 *     the stored position (file and offset: a GTID start position would
 *     need Connector/C's GTID dump support, which 3.3 lacks, and buys
 *     nothing on one server, where file:pos is exact); if the binlog was
 *     purged past it, every view is marked stale (logged, and
 *     FreshnessSource says so until the next start: cat_binlog_gap). Before the very first start there is no
 *     position: the follower starts at the end of the binlog.
 */
#include "cat_internal.h"
#include "rw_limits.h"
#include "cat_part.h"
#include "cat_probe.h"
#include "cat_part_rowimage.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <mariadb_rpl.h>

#include "cat_binlog.h"
#include "cat_fresh.h"
#include "cat_incr.h"
#include "cat_rowimage.h"

/* Seconds between heartbeats the server sends when the binlog is idle. */
#define BL_HEARTBEAT_S 1
/* Read timeout of the replication connection: several heartbeats. */
#define BL_READ_TIMEOUT_S 10
/* Minimum ms between two position checkpoints. */
#define BL_CHECKPOINT_MS 1000
/* How long a refresh connection id stays skipped after the refresh (ms). */
#define BL_OWN_LINGER_MS 60000
/* Refresh connections tracked at once. */
#define BL_OWN_MAX 256
/* Longest binlog file name we keep. */
#define BL_FILE_MAX 256

/* One entry of the table id -> table map (per event group). */
struct bl_table {
    uint64_t id;                    /* table id of TABLE_MAP / rows events */
    char key[2 * 64 * 4 + 2];       /* "db.table", lower case */
    bool skip;                      /* metadata schema or refresh staging table */
    bool ri_ok;                     /* ri holds the column layout of the table map */
    struct cat_ri_table ri;         /* column types and metadata (row image decoding) */
    char ri_why[200];               /* why ri could not be parsed (when !ri_ok) */
    UT_hash_handle hh;              /* bl_state.tables */
};

/* A refresh connection of this proxy. */
struct bl_own {
    unsigned long id;               /* mysql_thread_id of the connection, 0 = free slot */
    int64_t until_ms;               /* skipped until then; INT64_MAX while registered */
};

/* A binlog position. */
struct bl_pos {
    char file[BL_FILE_MAX];         /* binlog file name, "" = none */
    uint64_t pos;                   /* byte offset in it */
};

static struct {
    pthread_mutex_t mu;             /* guards the fields below up to `thread` */
    char reason[384];               /* why the binlog is not followed; "" while following */
    char gap[384];                  /* the last position loss (every view marked), "" none */
    bool following;                 /* the follower runs (FreshnessSource = binlog) */
    MYSQL *rpl_conn;                /* replication connection while open (stop shuts it) */
    struct bl_own own[BL_OWN_MAX];  /* refresh connections to skip */
    pthread_t thread;               /* the follower */
    bool running;                   /* thread created, not joined */
    pthread_cond_t cv;              /* wakes the backoff sleep at stop */
    _Atomic int stop;               /* ask the follower to stop */
    struct bl_pos start_end;        /* end of the binlog when the follower started */
    bool resumed;                   /* it started at the stored position (the downtime is
                                     * replayed), not at the end */
    _Atomic int caught_up;          /* it has read up to start_end */
} g_bl = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* The follower's own state (only its thread touches it after start). */
struct bl_state {
    MYSQL *side;                    /* side connection: checkpoints, SHOW MASTER STATUS */
    uint32_t master_id;             /* @@server_id of the backend */
    uint32_t server_id;             /* our replica server id */
    struct bl_pos cur;              /* position after the last event read */
    struct bl_pos safe;             /* last event-group boundary: where to resume */
    struct bl_pos saved;            /* last position stored in the metadata schema */
    bool in_group;                  /* inside an event group (after GTID, before its end) */
    bool standalone;                /* the group has no COMMIT/XID (DDL): ends after its query */
    bool group_user;                /* the group touched a table outside the metadata schema */
    bool pos_dirty;                 /* safe moved past a group that touched user tables */
    int64_t last_checkpoint_ms;     /* time of the last checkpoint */
    struct bl_table *tables;        /* table id map */
    struct cat_snapshot *snap;      /* snapshot used for marking (re-acquired on version change) */
};

/* ---- small helpers ---- */

static bool
ci_contains(const char *s, size_t len, const char *needle)
{
    size_t nl = strlen(needle), i, j;
    if (s == NULL || len < nl) {
        return false;
    }
    for (i = 0; i + nl <= len; i++) {
        for (j = 0; j < nl; j++) {
            if (tolower((unsigned char)s[i + j]) != tolower((unsigned char)needle[j])) {
                break;
            }
        }
        if (j == nl) {
            return true;
        }
    }
    return false;
}

bool
cat_binlog_skip_table(const char *db, const char *table, const char *meta)
{
    if (db != NULL && meta != NULL && cat_streq_ci(db, meta)) {
        return true;
    }
    return table != NULL && ci_contains(table, strlen(table), "__mvp_");
}

bool
cat_binlog_decide(const char *log_bin, const char *format, const char *master_file,
                  int repl_priv, char *why, size_t whylen)
{
    if (log_bin == NULL) {
        snprintf(why, whylen, "cannot read @@log_bin");
        return false;
    }
    if (!(strcmp(log_bin, "1") == 0 || cat_streq_ci(log_bin, "ON"))) {
        snprintf(why, whylen, "binary log is off (@@log_bin = %s); start MariaDB with --log-bin",
                 log_bin);
        return false;
    }
    if (format == NULL) {
        snprintf(why, whylen, "cannot read @@binlog_format");
        return false;
    }
    if (!cat_streq_ci(format, "ROW") && !cat_streq_ci(format, "MIXED") &&
        !cat_streq_ci(format, "STATEMENT")) {
        snprintf(why, whylen, "unsupported @@binlog_format %s", format);
        return false;
    }
    if (master_file == NULL || *master_file == '\0') {
        snprintf(why, whylen, "SHOW MASTER STATUS returned no binlog position (the service "
                              "account needs BINLOG MONITOR)");
        return false;
    }
    if (repl_priv == 0) {
        snprintf(why, whylen, "the service account lacks the REPLICATION SLAVE privilege");
        return false;
    }
    return true;
}

static void
set_reason(const char *reason)
{
    pthread_mutex_lock(&g_bl.mu);
    snprintf(g_bl.reason, sizeof(g_bl.reason), "%.*s", (int)(sizeof(g_bl.reason) - 1), reason);
    g_bl.following = reason[0] == '\0';
    /* while it follows, the partition probe only resolves what it is handed */
    cat_part_probe_binlog_covers(g_bl.following);
    pthread_mutex_unlock(&g_bl.mu);
}

/* Remember a position loss WHY (shown by cat_binlog_gap) with its UTC time. */
static void
set_gap(const char *why)
{
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    pthread_mutex_lock(&g_bl.mu);
    snprintf(g_bl.gap, sizeof(g_bl.gap), "%.300s; every view marked stale at %s UTC", why, when);
    pthread_mutex_unlock(&g_bl.mu);
}

const char *
cat_binlog_gap(char *buf, size_t buflen)
{
    pthread_mutex_lock(&g_bl.mu);
    snprintf(buf, buflen, "%s", g_bl.gap);
    pthread_mutex_unlock(&g_bl.mu);
    return buf;
}

const char *
cat_binlog_source(char *buf, size_t buflen)
{
    pthread_mutex_lock(&g_bl.mu);
    if (g_bl.following) {
        snprintf(buf, buflen, "binlog");
    } else {
        snprintf(buf, buflen, "proxy-dml-only (%s)",
                 g_bl.reason[0] ? g_bl.reason : "binlog follower not started");
    }
    pthread_mutex_unlock(&g_bl.mu);
    return buf;
}

void
cat_binlog_own_conn(unsigned long thread_id, bool add)
{
    int64_t now = cat_now_ms();
    size_t i, free_slot = BL_OWN_MAX;
    if (thread_id == 0) {
        return;
    }
    pthread_mutex_lock(&g_bl.mu);
    for (i = 0; i < BL_OWN_MAX; i++) {
        struct bl_own *o = &g_bl.own[i];
        if (o->id == thread_id) {
            o->until_ms = add ? INT64_MAX : now + BL_OWN_LINGER_MS;
            pthread_mutex_unlock(&g_bl.mu);
            return;
        }
        if (free_slot == BL_OWN_MAX && (o->id == 0 || o->until_ms < now)) {
            free_slot = i;
        }
    }
    if (add) {
        if (free_slot < BL_OWN_MAX) {
            g_bl.own[free_slot].id = thread_id;
            g_bl.own[free_slot].until_ms = INT64_MAX;
        } else {
            cat_log(CAT_LOG_WARN, "binlog: too many refresh connections to track; the "
                                  "table-name rule still skips refresh writes");
        }
    }
    pthread_mutex_unlock(&g_bl.mu);
}

static bool
own_conn(unsigned long thread_id)
{
    int64_t now = cat_now_ms();
    size_t i;
    bool found = false;
    pthread_mutex_lock(&g_bl.mu);
    for (i = 0; i < BL_OWN_MAX; i++) {
        if (g_bl.own[i].id == thread_id && g_bl.own[i].until_ms >= now) {
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&g_bl.mu);
    return found;
}

/* Sleep up to MS or until stop is requested. */
static void
nap(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g_bl.mu);
    if (!atomic_load(&g_bl.stop)) {
        pthread_cond_timedwait(&g_bl.cv, &g_bl.mu, &ts);
    }
    pthread_mutex_unlock(&g_bl.mu);
}

/* Run SQL on C and return a copy of row 0's columns 0..N-1 in OUT (NULL
 * for SQL NULL or no row). Returns 0, or -1 with ERR (and *CODE). */
static int
q_row(MYSQL *c, const char *sql, size_t n, char **out, char *err, size_t errlen,
      unsigned *code)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    size_t i;
    for (i = 0; i < n; i++) {
        out[i] = NULL;
    }
    if (code != NULL) {
        *code = 0;
    }
    if (mysql_real_query(c, sql, strlen(sql)) != 0 || (res = mysql_store_result(c)) == NULL) {
        if (code != NULL) {
            *code = mysql_errno(c);
        }
        snprintf(err, errlen, "%s: %s (error %u)", sql, mysql_error(c), mysql_errno(c));
        return -1;
    }
    row = mysql_fetch_row(res);
    for (i = 0; row != NULL && i < n && i < mysql_num_fields(res); i++) {
        out[i] = cat_xstrdup(row[i]);
    }
    mysql_free_result(res);
    return 0;
}

static void
free_strs(char **v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        free(v[i]);
        v[i] = NULL;
    }
}

/* Current end of the binlog into P. Returns 0 or -1 with ERR. */
static int
master_end(MYSQL *c, struct bl_pos *p, char *err, size_t errlen)
{
    char *v[2];
    if (q_row(c, "SHOW MASTER STATUS", 2, v, err, errlen, NULL) < 0) {
        return -1;
    }
    if (v[0] == NULL || v[1] == NULL) {
        snprintf(err, errlen, "SHOW MASTER STATUS returned no row");
        free_strs(v, 2);
        return -1;
    }
    snprintf(p->file, sizeof(p->file), "%s", v[0]);
    p->pos = strtoull(v[1], NULL, 10);
    free_strs(v, 2);
    return 0;
}

/* Is position P still in the server's binlog (SHOW BINARY LOGS)? */
static bool
pos_available(MYSQL *c, const struct bl_pos *p)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    bool ok = false;
    if (mysql_query(c, "SHOW BINARY LOGS") != 0 || (res = mysql_store_result(c)) == NULL) {
        return false;
    }
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] != NULL && strcmp(row[0], p->file) == 0) {
            ok = row[1] == NULL || strtoull(row[1], NULL, 10) >= p->pos;
        }
    }
    mysql_free_result(res);
    return ok && p->pos >= 4;
}

/* The stored position: 1 found (P, *SERVER_ID filled), 0 none, -1 error. */
static int
load_position(MYSQL *c, struct bl_pos *p, uint32_t *server_id)
{
    struct cat_buf q = {0};
    char *v[1], err[512];
    unsigned long long sid, pos;
    char file[BL_FILE_MAX];
    int rc;
    cat_buf_puts(&q, "SELECT v FROM ");
    cat_buf_qname(&q, cat_meta_schema(), "meta");
    cat_buf_puts(&q, " WHERE k = 'binlog_position'");
    rc = q_row(c, q.p, 1, v, err, sizeof(err), NULL);
    cat_buf_free(&q);
    if (rc < 0) {
        cat_log(CAT_LOG_WARN, "binlog: reading the stored position: %s", err);
        return -1;
    }
    if (v[0] == NULL) {
        return 0;
    }
    rc = sscanf(v[0], "%llu %llu %255s", &sid, &pos, file) == 3 ? 1 : -1;
    if (rc == 1) {
        *server_id = (uint32_t)sid;
        p->pos = pos;
        snprintf(p->file, sizeof(p->file), "%s", file);
    } else {
        cat_log(CAT_LOG_WARN, "binlog: stored position '%s' is malformed", v[0]);
    }
    free(v[0]);
    return rc;
}

/* Store position P of server MASTER_ID. Returns 0 or -1 with ERR. */
static int
save_position(MYSQL *c, uint32_t master_id, const struct bl_pos *p, char *err, size_t errlen)
{
    struct cat_buf q = {0}, v = {0};
    int rc;
    cat_buf_printf(&v, "%u %llu %s", master_id, (unsigned long long)p->pos, p->file);
    cat_buf_puts(&q, "INSERT INTO ");
    cat_buf_qname(&q, cat_meta_schema(), "meta");
    cat_buf_puts(&q, " (k, v) VALUES ('binlog_position', ");
    cat_buf_lit(&q, v.p);
    cat_buf_puts(&q, ") ON DUPLICATE KEY UPDATE v = VALUES(v)");
    rc = cat_q(c, q.p, err, errlen, NULL);
    cat_buf_free(&q);
    cat_buf_free(&v);
    return rc;
}

/* Mark every view stale from now (a gap the follower cannot see into). */
static void
mark_everything(const char *why)
{
    struct cat_snapshot *snap = cat_snapshot_acquire();
    struct cat_marked m = {0};
    cat_mark_all(snap, &m, cat_now_ms());
    cat_log(CAT_LOG_WARN, "binlog: %s; marked all %zu materialized view(s) stale", why, m.n);
    cat_marked_free(&m);
    cat_snapshot_release(snap);
    cat_fresh_kick();
}

/* ---- the follower ---- */

static void
tables_clear(struct bl_state *st)
{
    struct bl_table *t, *tmp;
    HASH_ITER(hh, st->tables, t, tmp) {
        HASH_DEL(st->tables, t);
        cat_ri_table_free(&t->ri);
        free(t);
    }
}

/* The snapshot to mark on (re-acquired when the catalog moved). */
static const struct cat_snapshot *
snap_for_marking(struct bl_state *st)
{
    if (st->snap == NULL || st->snap->version != cat_version()) {
        cat_snapshot_release(st->snap);
        st->snap = cat_snapshot_acquire();
    }
    return st->snap;
}

/* Change time of event EV: its header timestamp, never later than now. */
static int64_t
event_time(const MARIADB_RPL_EVENT *ev)
{
    int64_t now = cat_now_ms(), t = (int64_t)ev->timestamp * 1000;
    return t > 0 && t < now ? t : now;
}

/* End of an event group (or an event outside any group): a safe resume point. */
static void
group_end(struct bl_state *st)
{
    st->in_group = false;
    st->standalone = false;
    st->safe = st->cur;
    if (st->group_user) {
        st->pos_dirty = true;
    }
    st->group_user = false;
    tables_clear(st);
}

static void
on_table_map(struct bl_state *st, const MARIADB_RPL_EVENT *ev)
{
    const struct st_mariadb_rpl_table_map_event *tm = &ev->event.table_map;
    struct bl_table *t = NULL;
    char db[256], name[256];
    HASH_FIND(hh, st->tables, &tm->table_id, sizeof(uint64_t), t);
    if (t == NULL) {
        t = cat_xcalloc(1, sizeof(*t));
        t->id = tm->table_id;
        HASH_ADD(hh, st->tables, id, sizeof(uint64_t), t);
    }
    snprintf(db, sizeof(db), "%.*s", (int)tm->database.length, tm->database.str);
    snprintf(name, sizeof(name), "%.*s", (int)tm->table.length, tm->table.str);
    cat_make_key(t->key, sizeof(t->key), db, name);
    t->skip = cat_binlog_skip_table(db, name, cat_meta_schema());
    /* the column layout, for decoding the partition column of row images
     * (cat_part_rows_mark); a table map repeated in the group replaces it */
    cat_ri_table_free(&t->ri);
    t->ri_ok = false;
    t->ri_why[0] = '\0';
    if (!t->skip) {
        t->ri_ok = cat_ri_table_parse(&t->ri, (const uint8_t *)tm->column_types.str,
                                      tm->column_types.length,
                                      (const uint8_t *)tm->metadata.str, tm->metadata.length,
                                      t->ri_why, sizeof(t->ri_why)) == 0;
        if (t->ri_ok && tm->column_count != tm->column_types.length) {
            snprintf(t->ri_why, sizeof(t->ri_why), "table map declares %u columns, lists %zu "
                     "types", tm->column_count, tm->column_types.length);
            cat_ri_table_free(&t->ri);
            t->ri_ok = false;
        }
    }
}

/* Big-endian unsigned of N bytes at P. */
static uint64_t
be_n(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/*
 * A MariaDB compressed rows event (WRITE/UPDATE/DELETE_ROWS_COMPRESSED,
 * v1 or v2): Connector/C 3.3 inflates the row data when asked to
 * (MARIADB_RPL_UNCOMPRESS) and flags it. Check that what it handed over
 * is the inflated body: the raw event's compressed header (1 byte 0x8N,
 * then N bytes of big-endian uncompressed length, after the post-header,
 * the column count and the bitmaps) must announce exactly ROW_DATA_SIZE
 * bytes. Returns NULL when it does, else the reason not to decode.
 */
static const char *
compressed_rows_check(const MARIADB_RPL_EVENT *ev)
{
    const struct st_mariadb_rpl_rows_event *rw = &ev->event.rows;
    const unsigned char *raw = ev->raw_data;
    size_t len = ev->raw_data_size, off, bm = (rw->column_count + 7) / 8;
    unsigned h;
    bool v2 = ev->event_type == WRITE_ROWS_COMPRESSED_EVENT ||
              ev->event_type == UPDATE_ROWS_COMPRESSED_EVENT ||
              ev->event_type == DELETE_ROWS_COMPRESSED_EVENT;
    bool upd = ev->event_type == UPDATE_ROWS_COMPRESSED_EVENT ||
               ev->event_type == UPDATE_ROWS_COMPRESSED_EVENT_V1;
    if (raw == NULL || len < 1 + 19 + 8 || ev->is_semi_sync) {
        return "compressed rows event without its raw bytes";
    }
    off = 1 + 19 + 6 + 2; /* OK byte, header, table id, flags */
    if (v2) {
        if (off + 2 > len) {
            return "compressed rows event truncated";
        }
        off += raw[off] | (size_t)raw[off + 1] << 8; /* extra data length includes itself */
    }
    if (off >= len) {
        return "compressed rows event truncated";
    }
    /* length-encoded column count */
    if (raw[off] < 0xfb) {
        off += 1;
    } else if (raw[off] == 0xfc) {
        off += 3;
    } else if (raw[off] == 0xfd) {
        off += 4;
    } else {
        return "compressed rows event with a bad column count";
    }
    off += bm * (upd ? 2 : 1);
    if (off >= len) {
        return "compressed rows event truncated";
    }
    h = raw[off];
    if ((h & 0x80) == 0 || (h & 7) < 1 || (h & 7) > 4 || off + 1 + (h & 7) > len) {
        return "compressed rows event with an unknown compression header";
    }
    if (be_n(raw + off + 1, h & 7) != rw->row_data_size) {
        return "compressed rows event not inflated by the connector";
    }
    return NULL;
}

static void
on_rows(struct bl_state *st, const MARIADB_RPL_EVENT *ev)
{
    uint64_t id = ev->event.rows.table_id;
    struct bl_table *t = NULL;
    struct cat_marked m = {0};
    HASH_FIND(hh, st->tables, &id, sizeof(uint64_t), t);
    if (t == NULL) {
        /* No TABLE_MAP seen for it (we started inside a group): attribute
         * the change to everything rather than miss it. */
        st->group_user = true;
        mark_everything("row event for an unknown table id");
        return;
    }
    if (t->skip) {
        return;
    }
    st->group_user = true;
    if (ev->event_type != WRITE_ROWS_EVENT_V1 && ev->event_type != WRITE_ROWS_EVENT &&
        ev->event_type != WRITE_ROWS_COMPRESSED_EVENT_V1 &&
        ev->event_type != WRITE_ROWS_COMPRESSED_EVENT) {
        /* UPDATE / DELETE rows: incremental refresh must fall back (cat_incr.c) */
        cat_incr_note_nonappend(t->key);
    }
    /* partitioned views over this table: the partition column of each row
     * image marks exactly the partitions touched; when the images cannot
     * be decoded, the probe narrows the change (cat_part_track.c); the rest
     * are marked whole */
    {
        const struct st_mariadb_rpl_rows_event *rw = &ev->event.rows;
        struct cat_ri_rows rows;
        const char *why_not = NULL;
        memset(&rows, 0, sizeof(rows));
        switch (ev->event_type) {
        case UPDATE_ROWS_EVENT_V1:
        case UPDATE_ROWS_EVENT:
        case UPDATE_ROWS_COMPRESSED_EVENT_V1:
        case UPDATE_ROWS_COMPRESSED_EVENT:
            rows.kind = CAT_RI_UPDATE;
            break;
        case DELETE_ROWS_EVENT_V1:
        case DELETE_ROWS_EVENT:
        case DELETE_ROWS_COMPRESSED_EVENT_V1:
        case DELETE_ROWS_COMPRESSED_EVENT:
            rows.kind = CAT_RI_DELETE;
            break;
        case PARTIAL_UPDATE_ROWS_EVENT:
            why_not = "partial JSON update rows event";
            break;
        default:
            rows.kind = CAT_RI_WRITE;
            break;
        }
        if (why_not == NULL && ev->event_type >= WRITE_ROWS_COMPRESSED_EVENT_V1 &&
            ev->event_type <= DELETE_ROWS_COMPRESSED_EVENT) {
            why_not = compressed_rows_check(ev);
        }
        if (why_not == NULL && !t->ri_ok) {
            why_not = t->ri_why[0] ? t->ri_why : "no table map layout";
        }
        rows.n_cols = rw->column_count;
        rows.present = (const uint8_t *)rw->column_bitmap;
        /* UPDATE: the after image's own bitmap (NULL makes the scan refuse) */
        rows.present_after = (const uint8_t *)rw->column_update_bitmap;
        rows.data = (const uint8_t *)rw->row_data;
        rows.len = rw->row_data_size;
        (void)cat_part_rows_mark(snap_for_marking(st), t->key, t->ri_ok ? &t->ri : NULL, &rows,
                                 why_not, &m, event_time(ev));
    }
    cat_part_defer(snap_for_marking(st), t->key, &m, event_time(ev));
    cat_mark_table(snap_for_marking(st), t->key, &m, event_time(ev));
    if (m.n > 0) {
        cat_log(CAT_LOG_DEBUG, "binlog: change to %s marked %zu view(s) stale", t->key, m.n);
    }
    cat_marked_free(&m);
}

/* cat_mark_writes_opt filter for Query events: the catalog's own tables. */
static bool
query_skip_name(const char *db, const char *name, void *arg)
{
    (void)arg;
    if (db != NULL) {
        return cat_binlog_skip_table(db, name, cat_meta_schema());
    }
    return cat_binlog_skip_table(NULL, name, NULL);
}

/* First word of SQL (LEN bytes) equals WORD (case-insensitive)? */
static bool
first_word_is(const char *sql, size_t len, const char *word)
{
    size_t i = 0, wl = strlen(word);
    while (i < len && isspace((unsigned char)sql[i])) {
        i++;
    }
    if (len - i < wl || strncasecmp(sql + i, word, wl) != 0) {
        return false;
    }
    return i + wl == len || !isalnum((unsigned char)sql[i + wl]);
}

/* A statement of the catalog's own (it writes `meta`.`table`, quoted). */
static bool
meta_stmt(const char *sql, size_t len)
{
    char pat[300];
    snprintf(pat, sizeof(pat), "`%s`.", cat_meta_schema());
    return ci_contains(sql, len, pat);
}

/* A Query event (QUERY, QUERY_COMPRESSED, EXECUTE_LOAD_QUERY). */
static void
on_query(struct bl_state *st, const MARIADB_RPL_EVENT *ev, uint32_t thread_id,
         const MARIADB_STRING *dbs, const MARIADB_STRING *stmt)
{
    const char *sql = stmt->str;
    size_t len = stmt->length;
    char db[256];
    if (sql == NULL) {
        mark_everything("unreadable Query event");
        return;
    }
    if (first_word_is(sql, len, "BEGIN") || first_word_is(sql, len, "START")) {
        st->in_group = true; /* MySQL-style group without a GTID event */
        return;
    }
    if (first_word_is(sql, len, "COMMIT") || first_word_is(sql, len, "ROLLBACK")) {
        group_end(st);
        return;
    }
    if (first_word_is(sql, len, "XA")) {
        /* XA START / END belong to the prepared group (which XA_PREPARE
         * ends); XA COMMIT / ROLLBACK are groups of their own. */
        const char *w = sql + 2;
        size_t wl = len - (size_t)(w - sql);
        while (wl > 0 && !isalpha((unsigned char)*w)) {
            w++;
            wl--;
        }
        if (first_word_is(w, wl, "START") || first_word_is(w, wl, "BEGIN")) {
            st->in_group = true;
        } else if (!first_word_is(w, wl, "END")) {
            group_end(st);
        }
        return;
    }
    if (first_word_is(sql, len, "SAVEPOINT") || first_word_is(sql, len, "RELEASE")) {
        return;
    }
    if (own_conn(thread_id) || ci_contains(sql, len, "__mvp_") || meta_stmt(sql, len)) {
        cat_log(CAT_LOG_DEBUG, "binlog: skipped a refresh statement of connection %u",
                thread_id);
    } else if (cat_sql_is_write(sql, len)) {
        struct cat_mark_opt opt = {query_skip_name, NULL, false};
        int n;
        snprintf(db, sizeof(db), "%.*s", (int)(dbs ? dbs->length : 0), dbs ? dbs->str : "");
        /* the same marking as proxy DML (cat_fresh.c), dated by the event */
        cat_incr_note_sql(sql, len, db[0] ? db : NULL); /* every write statement */
        n = cat_mark_writes_opt(snap_for_marking(st), sql, len, db[0] ? db : NULL,
                                event_time(ev), &opt);
        if (opt.user) {
            st->group_user = true;
        }
        if (n > 0) {
            cat_log(CAT_LOG_DEBUG, "binlog: statement '%.*s' marked %d view(s) stale",
                    (int)(len < 60 ? len : 60), sql, n);
        }
    }
    if (!st->in_group || st->standalone) {
        group_end(st);
    }
}

/* Is A at or after B? (binlog file names sort by their sequence number) */
static bool
pos_ge(const struct bl_pos *a, const struct bl_pos *b)
{
    int c = strcmp(a->file, b->file);
    return c > 0 || (c == 0 && a->pos >= b->pos);
}

/* Record that the follower has read up to the end the binlog had at its
 * start (cat_binlog_covers_downtime). */
static void
note_progress(const struct bl_state *st)
{
    if (!atomic_load(&g_bl.caught_up) && pos_ge(&st->cur, &g_bl.start_end)) {
        atomic_store(&g_bl.caught_up, 1);
    }
}

bool
cat_binlog_covers_downtime(void)
{
    bool ok;
    pthread_mutex_lock(&g_bl.mu);
    ok = g_bl.following && g_bl.resumed;
    pthread_mutex_unlock(&g_bl.mu);
    return ok && atomic_load(&g_bl.caught_up) != 0;
}

static uint32_t
rd_u32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320: the binlog event checksum) of
 * LEN bytes at B; bitwise, for the rare ROTATE event only. */
static uint32_t
crc32_ieee(const unsigned char *b, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;

    for (i = 0; i < len; i++) {
        c ^= b[i];
        for (k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        }
    }
    return c ^ 0xFFFFFFFFu;
}

/*
 * The position a ROTATE event (real, or the artificial one the server sends
 * at dump start and when it moves to the next file) points at, into P.
 * Read from the raw event, not from Connector/C's parsed fields: libmariadb
 * 3.3 (Debian bookworm's 10.11) parses a ROTATE that follows a
 * FORMAT_DESCRIPTION event 8 bytes off (it skips the 8-byte position as a
 * post-header and reads position and name behind it: position = the first
 * 8 characters of the name, name = the rest, e.g. "00002" or "0"), which
 * stored positions such as "1 591 0" and marked every view stale after a
 * FLUSH BINARY LOGS and a restart.
 * Layout (MariaDB KB "Rotate Event"): raw_data[raw_data_ofs..] is the
 * 19-byte event header (event_size at offset 9), then the position
 * (uint64 LE), then the file name up to the event's end, less the 4-byte
 * CRC32 when the event carries one (binlog_checksum; recognised by
 * checking it, as the artificial ROTATE comes before the FORMAT_DESCRIPTION
 * event that announces the checksum). Returns 0, or -1 (logged) when it is
 * malformed.
 */
static int
parse_rotate(const MARIADB_RPL_EVENT *ev, struct bl_pos *p)
{
    const unsigned char *h;
    uint32_t size;
    uint64_t pos = 0;
    size_t name_len, crc_len = 0, i;

    if (ev->raw_data == NULL || ev->raw_data_size < ev->raw_data_ofs + 19 + 8) {
        cat_log(CAT_LOG_WARN, "binlog: ROTATE event too short (%zu bytes)", ev->raw_data_size);
        return -1;
    }
    h = ev->raw_data + ev->raw_data_ofs;
    size = rd_u32(h + 9);
    if (size < 19 + 8 || size > ev->raw_data_size - ev->raw_data_ofs) {
        cat_log(CAT_LOG_WARN, "binlog: ROTATE event of bad size %u", (unsigned)size);
        return -1;
    }
    for (i = 0; i < 8; i++) {
        pos |= (uint64_t)h[19 + i] << (8 * i);
    }
    if (size >= 19 + 8 + 4 + 1 && crc32_ieee(h, size - 4) == rd_u32(h + size - 4)) {
        crc_len = 4;
    }
    name_len = size - 19 - 8 - crc_len;
    if (name_len == 0 || name_len >= BL_FILE_MAX) {
        cat_log(CAT_LOG_WARN, "binlog: ROTATE event with a file name of %zu bytes", name_len);
        return -1;
    }
    for (i = 0; i < name_len; i++) {
        if (h[27 + i] < 0x21 || h[27 + i] > 0x7e) {
            cat_log(CAT_LOG_WARN, "binlog: ROTATE event with an unprintable file name");
            return -1;
        }
    }
    memcpy(p->file, h + 27, name_len);
    p->file[name_len] = '\0';
    p->pos = pos;
    return 0;
}

/* Handle one event: position bookkeeping, then what it changed. Returns 0,
 * or -1 when the position can no longer be known (the caller restarts). */
static int
on_event(struct bl_state *st, const MARIADB_RPL_EVENT *ev)
{
    if (ev->event_type != ROTATE_EVENT && ev->event_type != HEARTBEAT_LOG_EVENT &&
        ev->next_event_pos != 0) {
        st->cur.pos = ev->next_event_pos;
        note_progress(st);
    }
    switch (ev->event_type) {
    case ROTATE_EVENT:
        if (parse_rotate(ev, &st->cur) < 0) {
            return -1;
        }
        if (!st->in_group) {
            st->safe = st->cur;
        }
        break;
    case GTID_EVENT:
        tables_clear(st);
        st->in_group = true;
        st->standalone = (ev->event.gtid.flags & FL_STANDALONE) != 0;
        st->group_user = false;
        break;
    case TABLE_MAP_EVENT:
        on_table_map(st, ev);
        break;
    case WRITE_ROWS_EVENT_V1:
    case UPDATE_ROWS_EVENT_V1:
    case DELETE_ROWS_EVENT_V1:
    case WRITE_ROWS_EVENT:
    case UPDATE_ROWS_EVENT:
    case DELETE_ROWS_EVENT:
    case WRITE_ROWS_COMPRESSED_EVENT_V1:
    case UPDATE_ROWS_COMPRESSED_EVENT_V1:
    case DELETE_ROWS_COMPRESSED_EVENT_V1:
    case WRITE_ROWS_COMPRESSED_EVENT:
    case UPDATE_ROWS_COMPRESSED_EVENT:
    case DELETE_ROWS_COMPRESSED_EVENT:
    case PARTIAL_UPDATE_ROWS_EVENT:
        on_rows(st, ev);
        break;
    case QUERY_EVENT:
    case QUERY_COMPRESSED_EVENT:
        on_query(st, ev, ev->event.query.thread_id, &ev->event.query.database,
                 &ev->event.query.statement);
        break;
    case EXECUTE_LOAD_QUERY_EVENT:
        on_query(st, ev, ev->event.execute_load_query.thread_id,
                 &ev->event.execute_load_query.schema, &ev->event.execute_load_query.statement);
        break;
    case XID_EVENT:
    case XA_PREPARE_LOG_EVENT:
        group_end(st);
        break;
    default:
        /* FORMAT_DESCRIPTION, GTID_LIST, BINLOG_CHECKPOINT, ANNOTATE_ROWS,
         * INTVAR, RAND, USER_VAR, HEARTBEAT ...: no data change. */
        if (!st->in_group && ev->event_type != HEARTBEAT_LOG_EVENT &&
            ev->event_type != FORMAT_DESCRIPTION_EVENT) {
            st->safe = st->cur;
        }
        break;
    }
    return 0;
}

/*
 * Store the safe position once the marks made before it are stored (so a
 * crash never loses a mark behind a stored position). FORCE ignores the
 * interval. Uses the side connection (reconnects lazily).
 */
static void
checkpoint(struct bl_state *st, bool force)
{
    char err[700];
    int64_t now = cat_now_ms();
    if (st->safe.file[0] == '\0' ||
        !(st->pos_dirty || (force && (st->safe.pos != st->saved.pos ||
                                      strcmp(st->safe.file, st->saved.file) != 0)))) {
        return;
    }
    if (!force && now - st->last_checkpoint_ms < BL_CHECKPOINT_MS) {
        return;
    }
    st->last_checkpoint_ms = now;
    if (st->side == NULL && (st->side = cat_connect(err, sizeof(err))) == NULL) {
        cat_log(CAT_LOG_WARN, "binlog: storing the position: %s (will retry)", err);
        return;
    }
    /* changes handed to the probe are resolved (or marked whole) first:
     * the stored position must never pass an unrecorded change */
    (void)cat_part_probe_settle(st->side);
    if (cat_fresh_flush_sync(st->side, err, sizeof(err)) < 0 ||
        save_position(st->side, st->master_id, &st->safe, err, sizeof(err)) < 0) {
        cat_log(CAT_LOG_WARN, "binlog: storing the position: %s (will retry)", err);
        mysql_close(st->side);
        st->side = NULL;
        return;
    }
    st->saved = st->safe;
    st->pos_dirty = false;
}

/* Open the replication connection and the dump at ST->safe. Returns the
 * handle, or NULL with ERR and *CODE (the server's error number). */
static MARIADB_RPL *
dump_open(struct bl_state *st, char *err, size_t errlen, unsigned *code)
{
    MYSQL *c = cat_connect_timeout(BL_READ_TIMEOUT_S, err, errlen);
    MARIADB_RPL *rpl;
    char sql[128];
    *code = 0;
    if (c == NULL) {
        *code = 2003;
        return NULL;
    }
    snprintf(sql, sizeof(sql), "SET @master_heartbeat_period = %llu",
             (unsigned long long)BL_HEARTBEAT_S * 1000000000ULL);
    /* Tell the server we understand checksums (else it refuses to send
     * CRC32 events) and MariaDB GTID events (capability 4). */
    if (cat_q(c, "SET @master_binlog_checksum = @@global.binlog_checksum", err, errlen,
              code) < 0 ||
        cat_q(c, "SET @mariadb_slave_capability = 4", err, errlen, code) < 0 ||
        cat_q(c, sql, err, errlen, code) < 0) {
        mysql_close(c);
        return NULL;
    }
    rpl = mariadb_rpl_init(c);
    if (rpl == NULL) {
        snprintf(err, errlen, "mariadb_rpl_init failed");
        mysql_close(c);
        return NULL;
    }
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, st->safe.file, strlen(st->safe.file));
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, (unsigned long)st->safe.pos);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, (unsigned int)st->server_id);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, (unsigned int)0);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_UNCOMPRESS, (unsigned int)1);
    pthread_mutex_lock(&g_bl.mu);
    g_bl.rpl_conn = c;
    pthread_mutex_unlock(&g_bl.mu);
    if (atomic_load(&g_bl.stop) || mariadb_rpl_open(rpl) != 0) {
        *code = mysql_errno(c);
        snprintf(err, errlen, "COM_BINLOG_DUMP at %s:%llu: %s (error %u)", st->safe.file,
                 (unsigned long long)st->safe.pos, mysql_error(c), mysql_errno(c));
        pthread_mutex_lock(&g_bl.mu);
        g_bl.rpl_conn = NULL;
        pthread_mutex_unlock(&g_bl.mu);
        mariadb_rpl_close(rpl);
        mysql_close(c);
        return NULL;
    }
    st->cur = st->safe;
    note_progress(st);
    st->in_group = false;
    st->standalone = false;
    st->group_user = false;
    tables_clear(st);
    return rpl;
}

static void
dump_close(MARIADB_RPL *rpl)
{
    MYSQL *c;
    pthread_mutex_lock(&g_bl.mu);
    c = g_bl.rpl_conn;
    g_bl.rpl_conn = NULL;
    pthread_mutex_unlock(&g_bl.mu);
    mariadb_rpl_close(rpl);
    if (c != NULL) {
        mysql_close(c);
    }
}

/* The server can no longer serve ST->safe: restart at its current end. */
static void
reposition_at_end(struct bl_state *st, const char *why)
{
    char err[512];
    if (st->side == NULL && (st->side = cat_connect(err, sizeof(err))) == NULL) {
        return;
    }
    if (master_end(st->side, &st->safe, err, sizeof(err)) < 0) {
        cat_log(CAT_LOG_WARN, "binlog: %s", err);
        return;
    }
    mark_everything(why);
    set_gap("binlog position lost while following (purged or unreadable); resumed at the end");
    st->pos_dirty = true;
}

static void *
follower_main(void *arg)
{
    struct bl_state *st = arg;
    int64_t backoff = 500;
    char err[700];
    while (!atomic_load(&g_bl.stop)) {
        unsigned code = 0;
        MARIADB_RPL *rpl = dump_open(st, err, sizeof(err), &code);
        if (rpl == NULL) {
            goto retry;
        }
        set_reason("");
        cat_log(CAT_LOG_INFO, "binlog: following %s:%llu as replica server id %u",
                st->safe.file, (unsigned long long)st->safe.pos, st->server_id);
        while (!atomic_load(&g_bl.stop)) {
            /* A fresh event each time: on a failed fetch Connector/C 3.3
             * may already have released the one passed in for reuse. */
            MARIADB_RPL_EVENT *ev = mariadb_rpl_fetch(rpl, NULL);
            if (ev == NULL) {
                code = mysql_errno(rpl->mysql) ? mysql_errno(rpl->mysql)
                                               : mariadb_rpl_errno(rpl);
                snprintf(err, sizeof(err), "reading the binlog at %s:%llu: %s (error %u)",
                         st->cur.file, (unsigned long long)st->cur.pos,
                         mysql_errno(rpl->mysql) ? mysql_error(rpl->mysql)
                                                 : mariadb_rpl_error(rpl),
                         code);
                break;
            }
            if (on_event(st, ev) < 0) {
                /* the file we are in is unknown: never store a position
                 * that may be wrong; restart from the end (all marked) */
                mariadb_free_rpl_event(ev);
                snprintf(err, sizeof(err), "unreadable ROTATE event after %s:%llu",
                         st->cur.file, (unsigned long long)st->cur.pos);
                code = 1236;
                break;
            }
            mariadb_free_rpl_event(ev);
            checkpoint(st, false);
            backoff = 500;
        }
        dump_close(rpl);
    retry:
        if (atomic_load(&g_bl.stop)) {
            break;
        }
        if (code == 1236) {
            /* ER_MASTER_FATAL_ERROR_READING_BINLOG: purged or unknown file. */
            char why[800];
            snprintf(why, sizeof(why), "position no longer available (%s)", err);
            reposition_at_end(st, why);
        } else if (code == 1227 || code == 1045) {
            char why[800];
            snprintf(why, sizeof(why), "binlog dump refused: %s", err);
            set_reason(why);
        }
        cat_log(CAT_LOG_WARN, "binlog: %s; retrying in %lld ms", err, (long long)backoff);
        nap(backoff);
        backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
    }
    checkpoint(st, true);
    cat_log(CAT_LOG_INFO, "binlog: follower stopped at %s:%llu", st->saved.file,
            (unsigned long long)st->saved.pos);
    tables_clear(st);
    cat_snapshot_release(st->snap);
    if (st->side != NULL) {
        mysql_close(st->side);
    }
    free(st);
    return NULL;
}

/* A replica server id unlikely to clash: high bit set, pid and time mixed. */
static uint32_t
pick_server_id(uint32_t master_id)
{
    struct timespec ts;
    uint32_t id;
    clock_gettime(CLOCK_REALTIME, &ts);
    id = (uint32_t)getpid() * 2654435761u ^ (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec;
    id = 0x80000000u | (id & 0x7fffffffu);
    if (id == master_id) {
        id ^= 1;
    }
    return id;
}

/* REPLICATION SLAVE (or SUPER) among the current user's direct grants:
 * 1 yes, 0 no (and no role in use), -1 unknown. */
static int
repl_privilege(MYSQL *c)
{
    char *v[2], err[512];
    int r = -1;
    if (q_row(c,
              "SELECT (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES"
              " WHERE PRIVILEGE_TYPE IN ('REPLICATION SLAVE', 'SUPER') AND GRANTEE ="
              " CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''',"
              " SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')), CURRENT_ROLE()",
              2, v, err, sizeof(err), NULL) == 0 &&
        v[0] != NULL) {
        r = atoi(v[0]) > 0 ? 1 : (v[1] == NULL ? 0 : -1);
    }
    free_strs(v, 2);
    return r;
}

int
cat_binlog_start(void)
{
    char err[600], why[600];
    char *v[3] = {NULL, NULL, NULL}, *ms[1] = {NULL};
    struct bl_state *st;
    struct bl_pos stored;
    uint32_t stored_id = 0;
    int found;
    MYSQL *c;

    atomic_store(&g_bl.stop, 0);
    pthread_mutex_lock(&g_bl.mu);
    g_bl.gap[0] = '\0';
    pthread_mutex_unlock(&g_bl.mu);
    c = cat_connect(err, sizeof(err));
    if (c == NULL) {
        snprintf(why, sizeof(why), "%s", err);
        goto off;
    }
    if (q_row(c, "SELECT @@log_bin, @@binlog_format, @@server_id", 3, v, err, sizeof(err),
              NULL) < 0) {
        snprintf(why, sizeof(why), "%s", err);
        goto off;
    }
    if (q_row(c, "SHOW MASTER STATUS", 1, ms, err, sizeof(err), NULL) < 0) {
        snprintf(why, sizeof(why), "%s", err);
        goto off;
    }
    if (!cat_binlog_decide(v[0], v[1], ms[0], repl_privilege(c), why, sizeof(why))) {
        goto off;
    }
    st = cat_xcalloc(1, sizeof(*st));
    st->side = c;
    st->master_id = (uint32_t)strtoul(v[2] ? v[2] : "0", NULL, 10);
    st->server_id = pick_server_id(st->master_id);
    if (master_end(c, &st->safe, err, sizeof(err)) < 0) {
        snprintf(why, sizeof(why), "%s", err);
        free(st);
        goto off;
    }
    memset(&stored, 0, sizeof(stored));
    found = load_position(c, &stored, &stored_id);
    if (found == 1 && stored_id == st->master_id && pos_available(c, &stored)) {
        st->safe = stored;
        cat_log(CAT_LOG_INFO, "binlog: resuming at the stored position %s:%llu", stored.file,
                (unsigned long long)stored.pos);
    } else if (found != 0) {
        char msg[700];
        snprintf(msg, sizeof(msg),
                 "the stored binlog position %s:%llu (server %u) is not available on server "
                 "%u; changes made while no proxy followed it cannot be seen",
                 stored.file, (unsigned long long)stored.pos, stored_id, st->master_id);
        mark_everything(msg);
        snprintf(msg, sizeof(msg),
                 "stored binlog position %s:%llu purged (or of another server) while no proxy "
                 "followed; resumed at the end %s:%llu",
                 stored.file, (unsigned long long)stored.pos, st->safe.file,
                 (unsigned long long)st->safe.pos);
        set_gap(msg);
    }
    /* incremental refresh after a restart (cat_incr.c) trusts the replay
     * of the downtime only once it is read */
    {
        struct bl_pos end = st->safe;
        bool resumed = found == 1 && stored_id == st->master_id &&
                       memcmp(&st->safe, &stored, sizeof(stored)) == 0;
        if (resumed && master_end(c, &end, err, sizeof(err)) < 0) {
            resumed = false;
        }
        pthread_mutex_lock(&g_bl.mu);
        g_bl.start_end = end;
        g_bl.resumed = resumed;
        atomic_store(&g_bl.caught_up, 0);
        pthread_mutex_unlock(&g_bl.mu);
    }
    st->saved = found == 1 ? stored : st->safe;
    st->pos_dirty = found != 1 || memcmp(&st->saved, &st->safe, sizeof(st->safe)) != 0;
    free_strs(v, 3);
    free_strs(ms, 1);
    set_reason("");
    if (rw_thread_create(&g_bl.thread, follower_main, st, false) != 0) {
        snprintf(why, sizeof(why), "cannot start the binlog follower thread");
        mysql_close(st->side);
        free(st);
        c = NULL;
        goto off;
    }
    g_bl.running = true;
    return 0;
off:
    free_strs(v, 3);
    free_strs(ms, 1);
    if (c != NULL) {
        mysql_close(c);
    }
    set_reason(why);
    cat_log(CAT_LOG_WARN, "freshness: not following the binlog (%s); writes that bypass the "
                          "proxy are not seen",
            why);
    return -1;
}

void
cat_binlog_stop(void)
{
    if (!g_bl.running) {
        return;
    }
    pthread_mutex_lock(&g_bl.mu);
    atomic_store(&g_bl.stop, 1);
    if (g_bl.rpl_conn != NULL) {
        /* Wake the blocking read; the thread closes the connection. */
        int fd = (int)mysql_get_socket(g_bl.rpl_conn);
        if (fd >= 0) {
            shutdown(fd, SHUT_RDWR);
        }
    }
    pthread_cond_broadcast(&g_bl.cv);
    pthread_mutex_unlock(&g_bl.mu);
    pthread_join(g_bl.thread, NULL);
    g_bl.running = false;
    set_reason("stopped");
}
