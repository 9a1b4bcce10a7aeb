/*
 * cat_core.h - the engine's catalog core (cat.c, cat_keys.c): the service
 * connection, the writer lock, building and publishing snapshots from a set
 * of views (schemas, keys, models in dependency order, the by_table index),
 * and the views that read a view.
 */
#ifndef CAT_CORE_H
#define CAT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "cat.h"
#include "cat_util.h"

/* Open a new service-account connection (caller closes with mysql_close).
 * Returns NULL with a one-line reason in ERR. */
MYSQL *cat_connect(char *err, size_t errlen);
/* Same with a read/write timeout of TIMEOUT_S seconds (0 = library default). */
MYSQL *cat_connect_timeout(unsigned timeout_s, char *err, size_t errlen);

/* Run SQL on C discarding any result; returns 0 or -1 with ERR (message
 * with the MySQL code) and, when CODE is not NULL, the error number. */
int cat_q(MYSQL *c, const char *sql, char *err, size_t errlen, unsigned *code);

/* Run SQL on C and return the first column of its first row as a new
 * string (caller frees); NULL when the query fails, returns no row, or the
 * value is NULL. OK (may be NULL) tells those apart: true when the query
 * ran; on failure the error stays in mysql_error(C). */
char *cat_q_value(MYSQL *c, const char *sql, bool *ok);

/* Metadata schema name (valid after cat_init). */
const char *cat_meta_schema(void);

/* Lock / unlock the catalog writer mutex (admin threads). */
void cat_writer_lock(void);
void cat_writer_unlock(void);

/*
 * Build and publish the next snapshot from MVS (a uthash of views, consumed):
 * fetch the schema of every base and storage table over C, build models in
 * dependency order and the by_table index. Caller holds the writer lock.
 * Returns 0, or -1 with ERR (nothing published, MVS freed).
 */
int cat_publish_mvs(MYSQL *c, struct cat_mv *mvs, char *err, size_t errlen);

/*
 * Re-read MV's PARTITION BY from its stored CREATE text, resolve it over C
 * and load its partition state (at start and when another proxy's view
 * is loaded, cat_sync.c). A view whose partitioning cannot be resolved is
 * kept unpartitioned and not used for rewrite (logged).
 */
void cat_load_partitioning(MYSQL *c, struct cat_mv *mv);

/* Build the by_table index of a hand-made SNAP (mvs filled, no models);
 * for unit tests of the freshness marking. */
void cat_snapshot_index(struct cat_snapshot *snap);

/* Copy of the current snapshot's views (caller owns the hash). */
struct cat_mv *cat_current_mvs(void);

/* Views in SNAP that read view MV directly (borrowed), up to MAX into OUT; returns the count. */
size_t cat_dependents(const struct cat_snapshot *snap, const struct cat_mv *mv,
                      struct cat_mv **out, size_t max);


/*
 * Read the PRIMARY KEY, UNIQUE and FOREIGN KEY constraints of every table in
 * SNAP->tables from the backend's information_schema over connection C (the
 * service connection) and attach them to the tables (ukeys / fkeys). Call
 * while building a snapshot, after its tables' columns are loaded. On
 * failure the tables keep no keys (join elimination is simply not done).
 * Returns 0 or -1 (query failed).
 */
int cat_keys_load(struct st_mysql *c, struct cat_snapshot *snap);

/*
 * Append the informational constraints of SNAP->icons to the key lists of
 * the tables of SNAP->tables they belong to (cat_key.informational set,
 * name copied). A constraint naming a column the table no longer has is
 * skipped. Called by cat_keys_load() after the backend's own keys.
 */
void cat_icons_merge(struct cat_snapshot *snap);

#endif /* CAT_CORE_H */
