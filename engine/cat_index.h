/*
 * cat_index.h - the physical design of view storage tables: the indexes a
 * view declares (CREATE ... KEY (cols) / INDEX name (cols), ALTER
 * MATERIALIZED VIEW ... ADD / DROP INDEX) or gets by default, their checks,
 * their text for SHOW and the catalog, and building them on a refresh's
 * staging table. The list itself lives on the view (struct cat_mv_index,
 * catalog/include/cat.h); it is stored by cat_store.c (`mvs.indexes`).
 */
#ifndef CAT_INDEX_H
#define CAT_INDEX_H

#include <mysql.h>

#include <stdbool.h>
#include <stddef.h>

#include "cat.h"
#include "cat_reply.h"
#include "cat_util.h"

/* Prefix length (characters / bytes) given to TEXT and BLOB columns of an index. */
#define CAT_INDEX_PREFIX 255

/* Columns of an index of the proxy's defaults (leading GROUP BY outputs). */
#define CAT_INDEX_AUTO_MAX_COLS 3

/*
 * Check the N indexes at IX against the storage table's columns COLS (NC
 * names) and against each other, plus the N_OLD indexes already at OLD (an
 * ALTER ... ADD INDEX; NULL / 0 at CREATE). Every column must be one of
 * COLS (case-insensitive; ERR 1072 "Key column 'x' doesn't exist in
 * table"), appear once per index (1060), and index names must be unique
 * (1061 "Duplicate key name"). Returns 0, or -1 with ERR filled.
 */
int cat_index_check(const struct cat_mv_index *ix, size_t n, const struct cat_mv_index *old,
                    size_t n_old, char *const *cols, size_t nc, struct mvp_reply *err);

/*
 * The SHOW MATERIALIZED VIEWS `Indexes` text of the N indexes at IX:
 * "KEY(g, day); INDEX i_name(name); INDEX mvp_auto_group(g)" ("" when
 * none). Caller frees.
 */
char *cat_index_text(const struct cat_mv_index *ix, size_t n);

/*
 * Append the declared (not default) indexes at IX (N) as CREATE clauses to
 * B, each on its own line: "\nKEY (`g`, `day`)", "\nINDEX `i` (`name`)".
 * For SHOW CREATE MATERIALIZED VIEW; cat_parse reads them back.
 */
void cat_index_clauses(struct cat_buf *b, const struct cat_mv_index *ix, size_t n);

/*
 * The catalog's form of IX (N): a JSON array of JSON arrays of strings,
 * ["K"|"I"|"A", name, col, ...] (K the KEY, I a declared INDEX, A a
 * default). NULL when N is 0. Caller frees.
 */
char *cat_index_json(const struct cat_mv_index *ix, size_t n);

/*
 * Read TEXT (cat_index_json's form; NULL or "" is no index) into *OUT / *N
 * (caller frees with cat_mv_indexes_free). Malformed entries are skipped.
 * Returns the count.
 */
size_t cat_index_of_json(const char *text, struct cat_mv_index **out, size_t *n);

/* Is DATA_TYPE T (lower case; NULL: no) a TEXT, BLOB or JSON type, which an
 * index can hold only with a prefix length (CAT_INDEX_PREFIX)? */
bool cat_index_needs_prefix(const char *t);

/*
 * Columns of DB.TABLE (information_schema.COLUMNS on C, ordinal order) into
 * *NAMES and, when TYPES is non-NULL, their DATA_TYPEs into *TYPES (both
 * caller frees with cat_strv_free, count *N). Returns 0, or -1 with ERR
 * (ERRLEN bytes); a table that does not exist gives 0 columns.
 */
int cat_index_table_cols(MYSQL *c, const char *db, const char *table, char ***names,
                         char ***types, size_t *n, char *err, size_t errlen);

/*
 * Build the N indexes at IX on DB.TABLE with C (one ALTER TABLE ... ADD
 * INDEX each; an index the table already has by that name is left alone,
 * so on a staging table made LIKE the storage table this is one read). TEXT /
 * BLOB columns get a prefix of CAT_INDEX_PREFIX. Never fatal: an index that
 * cannot be built is skipped with a WARN log naming WHAT (the view) and the
 * backend's error. When OK is non-NULL, OK[i] (N entries) tells whether
 * index i is there afterwards. Returns how many were built or already there.
 */
size_t cat_index_build(MYSQL *c, const char *db, const char *table,
                       const struct cat_mv_index *ix, size_t n, const char *what, bool *ok);

/*
 * The default indexes of MV (documented in README, "Indexes of a view"):
 * its partition column (mvp_auto_part; left out when the next index starts
 * with it), its first up to CAT_INDEX_AUTO_MAX_COLS GROUP BY outputs in
 * order (mvp_auto_group), or, for a join without GROUP BY, its first
 * join-key output (mvp_auto_join).
 * Reads MV->part and MV->model (NULL model: only the partition index).
 * Into *OUT (caller frees with cat_mv_indexes_free); returns the count.
 */
size_t cat_index_defaults(const struct cat_mv *mv, struct cat_mv_index **out);

#endif /* CAT_INDEX_H */
