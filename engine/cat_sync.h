/*
 * cat_sync.h - several proxies on one backend and metadata schema (SPEC §2,
 * §6): each sees the catalog changes and refresh results of the others.
 *
 *   writer (any proxy): cat_publish_mvs -> cat_sync_bump: meta.catalog_version + 1
 *   scheduler thread, every MVPROXY_CATALOG_POLL_MS (1 s):
 *     cat_sync_poll: version moved -> reload the views from `mvs` (states of
 *                    views that stay are kept), publish without bumping
 *                    every time        -> adopt refresh results stored by other
 *                    proxies (last_refresh_ms newer than ours): view and
 *                    partition states
 *
 * Freshness merge rule: a stored refresh newer than ours is adopted with
 * its stale_since, except that a change this proxy observed after that
 * refresh ended keeps the view (partition) stale from that change. Changes
 * observed before it ended are taken as reflected or recorded by the
 * refreshing proxy, which follows the same binlog; without a binlog, a
 * write through proxy A made during a refresh by proxy B is not seen by B
 * (documented in README "Refresh engine").
 */
#ifndef CAT_SYNC_H
#define CAT_SYNC_H

#include <mysql.h>

/* Remember the stored catalog version as seen (at start, before loading). */
void cat_sync_init(MYSQL *c);

/*
 * Bump the stored catalog version after this proxy changed the catalog
 * (called by cat_publish_mvs with the writer lock held; a no-op during a
 * reload). Returns 0 or -1 (logged; other proxies then see the change at
 * their next state poll only).
 */
int cat_sync_bump(MYSQL *c);

/* One poll (scheduler thread) over C. Returns 0, or -1 when the backend failed. */
int cat_sync_poll(MYSQL *c);

#endif /* CAT_SYNC_H */
