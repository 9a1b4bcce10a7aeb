/*
 * cat_fresh.h - marking by write statement (SPEC §5): the statement marker
 * shared by the proxy's DML path (cat_note_write, cat.h) and the binlog
 * follower's Query events (cat_binlog.c). The other cat_fresh.c functions
 * (cat_mark_table, cat_mark_name, cat_mark_all, cat_scan_writes, the
 * persistence thread) are declared in cat_internal.h.
 */
#ifndef CAT_FRESH_H
#define CAT_FRESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * (cat_incr_note_sql). Returns the number of views marked; borrows
 * everything; no errors (a statement it cannot analyse marks more, never
 * less).
 */
int cat_mark_writes_opt(const struct cat_snapshot *snap, const char *sql, size_t len,
                        const char *db, int64_t when_ms, struct cat_mark_opt *opt);

#endif /* CAT_FRESH_H */
