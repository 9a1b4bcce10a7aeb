/*
 * rw_util.h - small helpers shared by the rewriter's files: a growable
 * text buffer, checked string duplication and reason formatting.
 */
#ifndef RW_UTIL_H
#define RW_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Growable NUL-terminated text; OOM sticks in ->oom and later appends are ignored. */
struct rw_buf {
    char *s;            /* text (owned), NULL until the first append */
    size_t len;         /* bytes used, without the NUL */
    size_t cap;         /* bytes allocated */
    bool oom;           /* an allocation failed */
};

/* Append LEN bytes at P to B. */
void rw_buf_add(struct rw_buf *b, const char *p, size_t len);

/* Append the NUL-terminated string S to B. */
void rw_buf_puts(struct rw_buf *b, const char *s);

/* Append printf-formatted text to B. */
void rw_buf_printf(struct rw_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append NAME as a backtick-quoted MariaDB identifier (` doubled). */
void rw_buf_ident(struct rw_buf *b, const char *name);

/* Take B's text (caller frees; "" when empty); B is reset. NULL on OOM. */
char *rw_buf_take(struct rw_buf *b);

/* Free B's text and reset it. */
void rw_buf_free(struct rw_buf *b);

/* strdup that accepts NULL (returns NULL). */
char *rw_strdup(const char *s);

/* Duplicate LEN bytes at S as a NUL-terminated string; NULL on OOM. */
char *rw_strndup(const char *s, size_t len);

/* Lower-case ASCII copy of S (caller frees); NULL on OOM. */
char *rw_lower(const char *s);

/* printf into a new string (caller frees); NULL on OOM. */
char *rw_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* vprintf into a new string (caller frees); NULL on OOM. */
char *rw_vsprintf(const char *fmt, va_list ap);

#endif /* RW_UTIL_H */
