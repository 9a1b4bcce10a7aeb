/*
 * cat_binlog.c - freshness from the backend's binary log (SPEC §5, "the
 * exact source"). A follower thread reads the binlog as a replica with
 * MariaDB Connector/C's replication API (<mariadb_rpl.h>: mariadb_rpl_init,
 * mariadb_rpl_optionsv, mariadb_rpl_open = COM_BINLOG_DUMP,
 * mariadb_rpl_fetch, mariadb_rpl_close; event formats: MariaDB KB
 * "Replication Protocol" and "Binary Log Event" pages) and marks the views
 * over every changed table stale through the catalog's one marking path
 * (cat_fresh.c cat_mark_table / cat_mark_writes_opt). The events
 * themselves are handled in cat_binlog_event.c; this file keeps the
 * connection, the positions and the thread.
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
 *       EXECUTE_LOAD_QUERY             bookkeeping; else the statement marker
 *                                      of proxy DML (cat_mark_writes_opt) on the
 *                                      text with the event's default db (DDL:
 *                                      TRUNCATE, ALTER, DROP, RENAME;
 *                                      statement-based DML)
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
#include "cat.h"
#include "cat_core.h"
#include "cat_fresh.h"
#include "cat_util.h"
#include "rw_limits.h"
#include "cat_part_engine.h"
#include "cat_part.h"
#include "cat_probe.h"

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
#include "cat_binlog_event.h"
#include "cat_rowimage.h"
#include "cat_fence.h"

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

/* A refresh connection of this proxy. */
struct bl_own {
    unsigned long id;               /* mysql_thread_id of the connection, 0 = free slot */
    int64_t until_ms;               /* skipped until then; INT64_MAX while registered */
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

/* ---- small helpers ---- */

bool
cat_binlog_ci_contains(const char *s, size_t len, const char *needle)
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
    return table != NULL && cat_binlog_ci_contains(table, strlen(table), "__mvp_");
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
    cat_fence_set_following(g_bl.following);
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

bool
cat_binlog_is_own_conn(unsigned long thread_id)
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

int
cat_binlog_master_end(MYSQL *c, char *file, size_t filelen, uint64_t *pos, char *err,
                      size_t errlen)
{
    struct bl_pos p;
    if (master_end(c, &p, err, errlen) < 0) {
        return -1;
    }
    snprintf(file, filelen, "%s", p.file);
    *pos = p.pos;
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
void
cat_binlog_mark_everything(const char *why)
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

/* Is A at or after B? (binlog file names sort by their sequence number) */
static bool
pos_ge(const struct bl_pos *a, const struct bl_pos *b)
{
    int c = strcmp(a->file, b->file);
    return c > 0 || (c == 0 && a->pos >= b->pos);
}

/* Record that the follower has read up to the end the binlog had at its
 * start (cat_binlog_covers_downtime). */
void
cat_binlog_note_progress(const struct bl_state *st)
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
    cat_binlog_note_progress(st);
    st->in_group = false;
    st->standalone = false;
    st->group_user = false;
    cat_binlog_tables_clear(st);
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
    cat_binlog_mark_everything(why);
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
            if (cat_binlog_on_event(st, ev) < 0) {
                /* the file we are in is unknown: never store a position
                 * that may be wrong; restart from the end (all marked) */
                mariadb_free_rpl_event(ev);
                snprintf(err, sizeof(err), "unreadable ROTATE event after %s:%llu",
                         st->cur.file, (unsigned long long)st->cur.pos);
                code = 1236;
                break;
            }
            mariadb_free_rpl_event(ev);
            /* every mark of the events read so far is made: the fence may pass */
            cat_fence_follower_at(st->cur.file, st->cur.pos);
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
    cat_binlog_tables_clear(st);
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

/* REPLICATION SLAVE among the current user's direct grants (SUPER does not
 * imply it: a binlog dump needs it by name, MariaDB KB "GRANT"):
 * 1 yes, 0 no (and no role in use), -1 unknown. */
static int
repl_privilege(MYSQL *c)
{
    char *v[2], err[512];
    int r = -1;
    if (q_row(c,
              "SELECT (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES"
              " WHERE PRIVILEGE_TYPE = 'REPLICATION SLAVE' AND GRANTEE ="
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
        cat_binlog_mark_everything(msg);
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
