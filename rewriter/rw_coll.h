/*
 * rw_coll.h - a conservative comparator for string literals under a
 * MariaDB collation, for range subsumption on string columns
 * (view-matching.md §3: "string collations (compare as the backend would
 * -- when in doubt, not subsumed)").
 *
 * A comparison `col <op> 'lit'` is evaluated by MariaDB in the column's
 * collation (the column's coercibility, IMPLICIT, beats the literal's,
 * COERCIBLE). To decide that one range contains another, the literal
 * bounds must be compared in that collation. This module answers only
 * where the answer is exact, and says "cannot tell" otherwise:
 *
 *   collation family     order decided for               equality decided for
 *   *_bin (PAD SPACE)    printable ASCII, tab             printable ASCII, tab
 *                        (byte order, shorter padded      (idem)
 *                        with spaces: 'a' = 'a ', 'a\t' < 'a')
 *   *_nopad_bin          printable ASCII, tab (bytes)     idem (bytes)
 *   known *_ci           [A-Za-z0-9] only, plus trailing  printable ASCII (ASCII
 *                        spaces under PAD SPACE           case folded; trailing
 *                        (case folded; digits < letters;  spaces ignored under
 *                        a prefix sorts first)            PAD SPACE)
 *   anything else        nothing                          nothing
 *
 * Byte-identical literals are always equal, whatever the collation.
 * Non-ASCII bytes are never decided: the literal's bytes are read in the
 * connection's character set, which the proxy does not know, and the
 * orderings of accented letters differ between collations.
 * The claims are verified against the real server by
 * tests/integration/itest_coll.c, for every collation listed in rw_coll.c.
 */
#ifndef RW_COLL_H
#define RW_COLL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when rw_coll_cmp can order literal S (NUL-terminated bytes) under
 * collation COLL (lower case, e.g. "utf8mb4_general_ci"; NULL = unknown)
 * against any other literal for which this is true.
 */
bool rw_coll_orderable(const char *coll, const char *s);

/*
 * Compare literals A and B under collation COLL (NULL = unknown). On
 * success stores -1, 0 or 1 in *RES (A < B, A = B, A > B as MariaDB
 * compares them) and returns true; returns false when the order is not
 * known exactly (see the table above). Pure; no allocation.
 */
bool rw_coll_cmp(const char *coll, const char *a, const char *b, int *res);

/*
 * Decide whether literals A and B are equal under COLL (NULL = unknown):
 * stores the answer in *EQ and returns true, or returns false when it
 * cannot be told (byte-identical strings are always equal).
 */
bool rw_coll_eq(const char *coll, const char *a, const char *b, bool *eq);

/* True when COLL is one of the collations this module knows (rw_coll.c). */
bool rw_coll_known(const char *coll);

/* Name of the I-th known collation (0-based), NULL past the last (for the
 * verification test). */
const char *rw_coll_known_name(size_t i);

#endif /* RW_COLL_H */
