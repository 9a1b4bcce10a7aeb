/*
 * rw_util.c - text buffer and string helpers for the rewriter.
 */
#include "rw_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make room for EXTRA more bytes plus a NUL; false (and B->oom) on failure. */
static bool
grow(struct rw_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;
    if (b->oom) {
        return false;
    }
    need = b->len + extra + 1;
    if (need <= b->cap) {
        return true;
    }
    cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap *= 2;
    }
    p = realloc(b->s, cap);
    if (p == NULL) {
        b->oom = true;
        return false;
    }
    b->s = p;
    b->cap = cap;
    return true;
}

void
rw_buf_add(struct rw_buf *b, const char *p, size_t len)
{
    if (!grow(b, len)) {
        return;
    }
    if (len > 0) {
        memcpy(b->s + b->len, p, len);
    }
    b->len += len;
    b->s[b->len] = '\0';
}

void
rw_buf_puts(struct rw_buf *b, const char *s)
{
    rw_buf_add(b, s, strlen(s));
}

void
rw_buf_printf(struct rw_buf *b, const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    s = rw_vsprintf(fmt, ap);
    va_end(ap);
    if (s == NULL) {
        b->oom = true;
        return;
    }
    rw_buf_puts(b, s);
    free(s);
}

void
rw_buf_ident(struct rw_buf *b, const char *name)
{
    const char *p;
    rw_buf_add(b, "`", 1);
    for (p = name; *p != '\0'; p++) {
        if (*p == '`') {
            rw_buf_add(b, "`", 1);
        }
        rw_buf_add(b, p, 1);
    }
    rw_buf_add(b, "`", 1);
}

char *
rw_buf_take(struct rw_buf *b)
{
    char *s;
    if (b->oom) {
        rw_buf_free(b);
        return NULL;
    }
    s = b->s != NULL ? b->s : rw_strdup("");
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

void
rw_buf_free(struct rw_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

char *
rw_strdup(const char *s)
{
    return s != NULL ? rw_strndup(s, strlen(s)) : NULL;
}

char *
rw_strndup(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
rw_lower(const char *s)
{
    char *p = rw_strdup(s);
    size_t i;
    if (p == NULL) {
        return NULL;
    }
    for (i = 0; p[i] != '\0'; i++) {
        p[i] = (char)tolower((unsigned char)p[i]);
    }
    return p;
}

char *
rw_vsprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    char *s;
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        return NULL;
    }
    s = malloc((size_t)n + 1);
    if (s == NULL) {
        return NULL;
    }
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *
rw_sprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    s = rw_vsprintf(fmt, ap);
    va_end(ap);
    return s;
}
