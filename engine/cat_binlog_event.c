/*
 * cat_binlog_event.c - the binlog follower's event handling (SPEC §5):
 * what each replication event means for event groups (the safe resume
 * position) and which views it marks stale. The event table, the skip
 * rules and what the follower can and cannot see: cat_binlog.c.
 */
#include "cat_binlog_event.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat_binlog.h"
#include "cat_fresh.h"
#include "cat_incr.h"
#include "cat.h"
#include "cat_core.h"
#include "cat_rowimage.h"
#include "cat_util.h"
#include "cat_part.h"
#include "cat_part_rowimage.h"
#include "cat_probe.h"
#include "rw_limits.h"

/* ---- event decoding ---- */

void
cat_binlog_tables_clear(struct bl_state *st)
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
    cat_binlog_tables_clear(st);
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
        cat_binlog_mark_everything("row event for an unknown table id");
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
    return cat_binlog_ci_contains(sql, len, pat);
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
        cat_binlog_mark_everything("unreadable Query event");
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
    if (cat_binlog_is_own_conn(thread_id) || cat_binlog_ci_contains(sql, len, "__mvp_") || meta_stmt(sql, len)) {
        cat_log(CAT_LOG_DEBUG, "binlog: skipped a refresh statement of connection %u",
                thread_id);
    } else if (cat_sql_is_write(sql, len, 0)) {
        struct cat_mark_opt opt = {query_skip_name, NULL, false};
        int n;
        snprintf(db, sizeof(db), "%.*s", (int)(dbs ? dbs->length : 0), dbs ? dbs->str : "");
        /* the same marking as proxy DML (cat_fresh.c), dated by the event */
        /* sql_mode 0: the event's own Q_SQL_MODE_CODE is not read yet */
        cat_incr_note_sql(sql, len, db[0] ? db : NULL, 0); /* every write statement */
        n = cat_mark_writes_opt(snap_for_marking(st), sql, len, db[0] ? db : NULL, 0,
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
int
cat_binlog_on_event(struct bl_state *st, const MARIADB_RPL_EVENT *ev)
{
    if (ev->event_type != ROTATE_EVENT && ev->event_type != HEARTBEAT_LOG_EVENT &&
        ev->next_event_pos != 0) {
        st->cur.pos = ev->next_event_pos;
        cat_binlog_note_progress(st);
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
        cat_binlog_tables_clear(st);
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
