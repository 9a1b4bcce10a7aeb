/*
 * cat_fresh.h - marking by write statement (SPEC §5): the statement marker
 * shared by the proxy's DML path (cat_note_write, cat.h) and the binlog
 * follower's Query events (cat_binlog.c). The other cat_fresh.c functions
 * (cat_mark_table, cat_mark_name, cat_mark_all, cat_scan_writes, the
 * persistence thread) follow below.
 */
#ifndef CAT_FRESH_H
#define CAT_FRESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "cat.h"

struct cat_snapshot;
struct cat_marked;
struct cat_mv;

/* Add MV to M without marking it: a caller that marked it precisely (by
 * partition) claims it so that the whole-view marking that follows
 * (cat_mark_table) skips it. Aborts on OOM. */
void cat_marked_claim(struct cat_marked *m, struct cat_mv *mv);

/* What a caller other than the proxy's DML path adds to cat_mark_writes_opt. */
struct cat_mark_opt {
    /* Called for each table name the generic scanner finds (DB NULL when
     * unqualified and no current database): true leaves it unmarked (the
     * binlog follower skips the catalog's own tables). NULL: none skipped. */
    bool (*skip)(const char *db, const char *name, void *arg);
    void *arg;                      /* passed to skip */
    bool user;                      /* out: the statement names a table that was not
                                     * skipped, or was handled by the partition tracker */
};

/*
 * THE marking of one write statement SQL (LEN bytes, current database DB
 * or NULL) dated WHEN_MS (unix ms) on the views of SNAP: partition DDL
 * and single-table DML mark partitioned views by partition
 * (cat_part_note_write, cat_part_track.c) and the other views over the
 * table whole; any other statement goes through the generic scanner
 * (cat_scan_writes), every name of it marking its views whole
 * (cat_mark_name). OPT (NULL for the proxy path) filters the scanner's
 * names and reports whether a user table was named; with OPT the
 * statement is analysed even when SNAP is NULL or has no views. The caller has
 * checked cat_sql_is_write() and told the incremental refresh
 * (cat_incr_note_sql). MODE is the sql_mode the statement was issued
 * under (RW_MODE_*, rw_sqlmode.h; 0 = default): the scanner lexes with its
 * honoured flags, and under any mode other than 0 the partition tracker,
 * which reads values in the default mode, is skipped, so partitioned views
 * are marked whole (more, never less; issue 11). Returns the number of
 * views marked; borrows everything; no errors (a statement it cannot
 * analyse marks more, never less).
 */
int cat_mark_writes_opt(const struct cat_snapshot *snap, const char *sql, size_t len,
                        const char *db, uint32_t mode, int64_t when_ms,
                        struct cat_mark_opt *opt);

/* Start / stop the background thread that persists freshness marks. */
int cat_fresh_start(char *err, size_t errlen);
void cat_fresh_stop(void);
/* Wake the persistence thread (cheap; never blocks). */
void cat_fresh_kick(void);
/*
 * Mark the views of SNAP over the tables the write statement SQL names
 * (see cat_note_write) stale from NOW_MS; returns the number of views whose
 * change_seq moved. Pure in-memory; used by cat_note_write and unit tests.
 */
int cat_mark_writes(const struct cat_snapshot *snap, const char *sql, size_t len, const char *db,
                    int64_t now_ms);

/*
 * The one marking path, used by the proxy-DML scanner above and by the
 * binlog follower (cat_binlog.c). A struct cat_marked collects the views
 * one change marked, so each view is marked once per change; zero it
 * before use, free with cat_marked_free().
 */
struct cat_marked {
    struct cat_mv **v;              /* views marked by this change (borrowed from the snapshot) */
    size_t n;                       /* count */
};
/*
 * Mark every view of SNAP over table KEY ("db.table", lower case; not in
 * its excluded_trigger_tables) and the view whose storage table KEY is:
 * stale_since goes from 0 to WHEN_MS, or down to WHEN_MS when it was
 * later (the earliest unreflected change wins); change_seq++; the state is
 * queued for persistence. Lock-free (atomics); SNAP may be NULL.
 */
void cat_mark_table(const struct cat_snapshot *snap, const char *key, struct cat_marked *m,
                    int64_t when_ms);
/* Same for table NAME in database DB; DB NULL or "" means "any database"
 * (an unqualified name with no current database). */
void cat_mark_name(const struct cat_snapshot *snap, const char *db, const char *name,
                   struct cat_marked *m, int64_t when_ms);
/* Mark every view of SNAP (a change the follower cannot attribute). */
void cat_mark_all(const struct cat_snapshot *snap, struct cat_marked *m, int64_t when_ms);
/* Is MV in M already (marked or claimed by this change)? */
bool cat_marked_has(const struct cat_marked *m, const struct cat_mv *mv);
void cat_marked_free(struct cat_marked *m);

/* Called by cat_scan_writes for each table name a write statement may
 * write: DB is the qualifier or the default database (NULL when neither),
 * NAME the lower-cased name (both valid during the call only). */
typedef void (*cat_write_name_fn)(const char *db, const char *name, void *arg);
/*
 * The write scanner: for every statement of SQL (LEN bytes, ';'-separated)
 * whose first keyword changes data or definitions (INSERT, REPLACE,
 * UPDATE, DELETE, TRUNCATE, LOAD, ALTER, DROP, RENAME), call FN for each
 * IDENT / IDENT.IDENT in it (conservative: columns too). The text is lexed
 * under the sql_mode flags MODE (RW_MODE_*, rw_sqlmode.h): under
 * ANSI_QUOTES "t" is a name (issue 11). Returns the number of calls.
 */
int cat_scan_writes(const char *sql, size_t len, const char *db, uint32_t mode,
                    cat_write_name_fn fn, void *arg);
/* Cheap test: may SQL write (first keyword a write word, or several
 * statements)? MODE: the sql_mode flags the text is lexed under. */
bool cat_sql_is_write(const char *sql, size_t len, uint32_t mode);
/*
 * Persist every dirty view state over C now (waits for a flush in progress
 * on the freshness thread). Returns 0 when every mark made before the call
 * is stored, -1 with ERR otherwise. Used by the binlog follower before it
 * records its position.
 */
int cat_fresh_flush_sync(MYSQL *c, char *err, size_t errlen);

#endif /* CAT_FRESH_H */
