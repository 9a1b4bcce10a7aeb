/*
 * cat_part_rowimage.h - change tracking per partition by binlog row image
 * (SPEC §5): the binlog follower hands each rows event of a partitioned
 * view's mapped base table here; the partition column's value in every
 * image marks exactly its partitions. Decoding itself: cat_rowimage.h.
 */
#ifndef CAT_PART_ROWIMAGE_H
#define CAT_PART_ROWIMAGE_H

#include <stddef.h>
#include <stdint.h>

struct cat_snapshot;
struct cat_marked;
struct cat_ri_table;
struct cat_ri_rows;

/*
 * A binlog rows event on table KEY dated WHEN_MS, with its row images
 * (SPEC §5: "maps each row event to its table and partition"): for every
 * partitioned view whose mapped base table KEY is, the partition column's
 * value in each image (an UPDATE's before and after images) is decoded
 * with the layout TM of the event's TABLE_MAP (cat_rowimage.h) and exactly
 * the view partitions holding those values are marked stale (NULL:
 * p_null; a zero or invalid date: every partition; TIMESTAMP: the UTC day
 * and both neighbours, since the view floors it in a session time zone).
 * Those views are added to M (claimed: the caller must neither defer nor
 * mark them whole). A view is left unclaimed, for cat_part_defer() and
 * the probe, when WHY_NOT is non-NULL (the caller found the event
 * undecodable: its text is the reason logged), TM is NULL (the table map
 * could not be parsed),
 * the catalog's column list of KEY does not match the table map (count,
 * or a type: the schema changed since), or the images cannot be decoded
 * (cat_ri_scan's reasons: the column missing from an image under
 * binlog_row_image=MINIMAL, an undecodable type, bad lengths). Each
 * decision is logged at debug level ("binlog rows ... exact" / "...
 * probe: <reason>") and counted in the view's rows_exact / rows_probed.
 * Returns the number of views marked exactly. Borrows everything.
 */
size_t cat_part_rows_mark(const struct cat_snapshot *snap, const char *key,
                          const struct cat_ri_table *tm, const struct cat_ri_rows *rows,
                          const char *why_not, struct cat_marked *m, int64_t when_ms);

#endif /* CAT_PART_ROWIMAGE_H */
