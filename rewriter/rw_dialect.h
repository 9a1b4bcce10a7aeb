/*
 * rw_dialect.h - the MySQL-dialect bridge in front of libpg_query.
 *
 * libpg_query parses PostgreSQL. MariaDB text is translated lexically into
 * text PostgreSQL's grammar accepts, keeping, for every byte of the
 * translated text, the byte offset in the original text it came from, so
 * that parse-tree locations (which are offsets into the translated text)
 * can be mapped back and the rewrite can splice the ORIGINAL text.
 *
 * What it translates (MariaDB -> PG): `ident` -> "ident" (case kept);
 * 'str' with backslash escapes -> E'str' style or standard '' doubling;
 * "str" (a string in MariaDB's default sql_mode) -> 'str'; # comments and
 * executable comments; LIMIT a,b -> LIMIT b OFFSET a; INTERVAL n DAY ->
 * an interval the PG grammar accepts, marked so the model knows the unit;
 * operators && || (logical) ! XOR DIV MOD <=>; functions that are keywords in PG;
 * 0x.. literals; backslash in strings; `ON DUPLICATE KEY` etc. left alone
 * (those statements are not rewritten).
 */
#ifndef RW_DIALECT_H
#define RW_DIALECT_H

#include <stddef.h>

struct rw_dialect_out {
    char *text;         /* translated text, NUL-terminated (owned) */
    size_t len;         /* bytes in text */
    size_t *orig_off;   /* len+1 entries: orig_off[i] = offset in the original of text byte i;
                           orig_off[len] = original length (owned) */
};

/*
 * Translate LEN bytes of MariaDB SQL at SRC. Fills OUT (caller frees with
 * rw_dialect_free). Returns 0, or -1 when the text uses something the bridge
 * knows PostgreSQL cannot parse and it cannot translate (the caller then
 * relays the query unchanged).
 */
int rw_dialect_translate(const char *src, size_t len, struct rw_dialect_out *out);

/* Free what OUT owns and zero it. */
void rw_dialect_free(struct rw_dialect_out *out);

/* Original offset of translated offset OFF (clamped to the text length). */
size_t rw_dialect_orig(const struct rw_dialect_out *out, size_t off);

#endif /* RW_DIALECT_H */
