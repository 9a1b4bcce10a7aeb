/*
 * cat_util.h - the base library's small helpers, used by every layer above
 * it: a growable text buffer with SQL and JSON quoting, allocation, a
 * minimal reader for the flat JSON the store keeps, storage column names,
 * time formatting and logging.
 *
 * Out-of-memory policy: the cat_x* allocators and struct cat_buf abort the
 * process ("mvproxy: out of memory" on stderr); they serve catalog and
 * engine data, which is small. The rewriter's struct rw_buf (rw_util.h)
 * keeps an OOM flag instead, because a failed rewrite must fall back to
 * relaying the statement unchanged rather than end the proxy.
 */
#ifndef CAT_UTIL_H
#define CAT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


/* Growable NUL-terminated text buffer; zero-initialise, free with cat_buf_free(). */
struct cat_buf {
    char *p;                        /* text (NUL-terminated once anything was added) */
    size_t len;                     /* bytes used, without the NUL */
    size_t cap;                     /* bytes allocated */
};

void cat_buf_add(struct cat_buf *b, const char *s, size_t n);
void cat_buf_puts(struct cat_buf *b, const char *s);
void cat_buf_printf(struct cat_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append NAME as a backtick-quoted identifier (` doubled). */
void cat_buf_ident(struct cat_buf *b, const char *name);
/* Append `DB`.`NAME`. */
void cat_buf_qname(struct cat_buf *b, const char *db, const char *name);
/* Append S as a string literal that means the same under every sql_mode
 * ('...' with '' doubling; a hex literal with a utf8mb4 introducer when S
 * holds a backslash or control bytes). NULL appends NULL. */
void cat_buf_lit(struct cat_buf *b, const char *s);
/* Append S as a JSON string (quotes, escapes). */
void cat_buf_json_str(struct cat_buf *b, const char *s);
/* Take the text (caller frees; "" when empty) and reset B. */
char *cat_buf_take(struct cat_buf *b);
void cat_buf_free(struct cat_buf *b);

/* malloc/strdup that abort on out-of-memory (catalog data is small). */
void *cat_xmalloc(size_t n);
void *cat_xcalloc(size_t n, size_t size);
char *cat_xstrdup(const char *s);          /* NULL -> NULL */
char *cat_xstrndup(const char *s, size_t n);
/* ASCII lower-case copy of S, "" for NULL (caller frees; aborts on out-of-memory). */
char *cat_xstrdup_lower(const char *s);
/* Does NEEDLE (lower case, NUL-terminated) occur in the LEN bytes at HAY,
 * ignoring ASCII case? */
bool cat_contains_ci(const char *hay, size_t len, const char *needle);
/* ASCII case-insensitive equality. */
bool cat_streq_ci(const char *a, const char *b);
/*
 * Can NAME (UTF-8, NUL-terminated) be a column of a MariaDB table? MariaDB
 * names an unaliased select item by its text, which a result set accepts
 * but CREATE TABLE refuses (ERR 1166 / 1059, sql/table.cc
 * check_column_name): empty, more than 64 characters, or ending in a space.
 */
bool cat_col_name_valid(const char *name);
/*
 * Storage column name for the view output at 1-based position ORDINAL whose
 * MariaDB name NAME is not a valid column name (cat_col_name_valid): the
 * first 50 characters of NAME with every run of other bytes than
 * [A-Za-z0-9_] replaced by one '_' (leading/trailing '_' dropped; "col"
 * when nothing is left), then "_<ORDINAL>"; "_<ORDINAL>_<k>" (k = 2, 3, ...)
 * when that equals (ASCII case-insensitively) one of the N_TAKEN names in
 * TAKEN. Deterministic: the same definition gets the same names. The
 * result is ASCII (at most 64 characters while ORDINAL < 10^6); caller frees.
 */
char *cat_col_name_generate(const char *name, size_t ordinal, const char *const *taken,
                            size_t n_taken);
/* Format unix ms as "YYYY-MM-DD HH:MM:SS" (local time) into BUF; 0 -> "". */
char *cat_fmt_time(char *buf, size_t buflen, int64_t ms);

/*
 * Parse a flat JSON object of string values ({"k":"v",...}) into parallel
 * arrays KEYS/VALUES (caller frees each string and both arrays). Returns the
 * count, or -1 on malformed input. Used for the mvs.properties column.
 */
int cat_json_parse_object(const char *s, char ***keys, char ***values);
/* Parse a JSON array of strings or nulls; same conventions. */
int cat_json_parse_array(const char *s, char ***items);
/* Free an array of N strings and the array. */
void cat_strv_free(char **v, size_t n);

/*
 * Log one line at LEVEL (CAT_LOG_ERROR .. CAT_LOG_DEBUG, the px_log levels)
 * with a printf-style FMT, through px_log (px_log.h).
 */
void cat_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define CAT_LOG_ERROR 0
#define CAT_LOG_WARN 1
#define CAT_LOG_INFO 2
#define CAT_LOG_DEBUG 3

#endif /* CAT_UTIL_H */
