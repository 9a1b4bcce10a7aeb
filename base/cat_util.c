/*
 * cat_util.c - the base library's small helpers (cat_util.h): a growable
 * text buffer with SQL and JSON quoting, allocation that aborts on
 * out-of-memory, a minimal JSON reader for the flat objects/arrays the
 * store keeps, storage column names, and logging through px_log.
 */
#include "cat_util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "px_log.h"

void *
cat_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "mvproxy: out of memory\n");
        abort();
    }
    return p;
}

void *
cat_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "mvproxy: out of memory\n");
        abort();
    }
    return p;
}

char *
cat_xstrdup(const char *s)
{
    return s == NULL ? NULL : cat_xstrndup(s, strlen(s));
}

char *
cat_xstrndup(const char *s, size_t n)
{
    char *p = cat_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
cat_xstrdup_lower(const char *s)
{
    char *r = cat_xstrdup(s != NULL ? s : "");
    size_t i;
    for (i = 0; r[i] != '\0'; i++) {
        r[i] = (char)tolower((unsigned char)r[i]);
    }
    return r;
}

bool
cat_streq_ci(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    while (*a != '\0' && *b != '\0') {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) {
            return false;
        }
        a++;
        b++;
    }
    return *a == *b;
}

void
cat_strv_free(char **v, size_t n)
{
    size_t i;
    if (v == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

char *
cat_fmt_time(char *buf, size_t buflen, int64_t ms)
{
    time_t t;
    struct tm tm;
    if (ms <= 0) {
        snprintf(buf, buflen, "%s", "");
        return buf;
    }
    t = (time_t)(ms / 1000);
    localtime_r(&t, &tm);
    strftime(buf, buflen, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

bool
cat_contains_ci(const char *hay, size_t len, const char *needle)
{
    size_t nl = strlen(needle), i, j;
    for (i = 0; i + nl <= len; i++) {
        for (j = 0; j < nl; j++) {
            if (tolower((unsigned char)hay[i + j]) != needle[j]) {
                break;
            }
        }
        if (j == nl) {
            return true;
        }
    }
    return false;
}

/* ---- text buffer ---- */

void
cat_buf_add(struct cat_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *np;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        np = realloc(b->p, cap);
        if (np == NULL) {
            fprintf(stderr, "mvproxy: out of memory\n");
            abort();
        }
        b->p = np;
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->p + b->len, s, n);
    }
    b->len += n;
    b->p[b->len] = '\0';
}

void
cat_buf_puts(struct cat_buf *b, const char *s)
{
    cat_buf_add(b, s, strlen(s));
}

void
cat_buf_printf(struct cat_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    char small[256];
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n < sizeof(small)) {
        cat_buf_add(b, small, (size_t)n);
        return;
    }
    {
        char *big = cat_xmalloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        cat_buf_add(b, big, (size_t)n);
        free(big);
    }
}

/* S between two QUOTE characters, each QUOTE inside it doubled (SQL's
 * quoting of identifiers with ` and of strings with '). */
static void
buf_quoted(struct cat_buf *b, const char *s, char quote)
{
    const char *p;
    cat_buf_add(b, &quote, 1);
    for (p = s; *p != '\0'; p++) {
        if (*p == quote) {
            cat_buf_add(b, &quote, 1);
        }
        cat_buf_add(b, p, 1);
    }
    cat_buf_add(b, &quote, 1);
}

void
cat_buf_ident(struct cat_buf *b, const char *name)
{
    buf_quoted(b, name, '`');
}

void
cat_buf_qname(struct cat_buf *b, const char *db, const char *name)
{
    cat_buf_ident(b, db);
    cat_buf_add(b, ".", 1);
    cat_buf_ident(b, name);
}

void
cat_buf_lit(struct cat_buf *b, const char *s)
{
    const unsigned char *p;
    bool plain = true;
    if (s == NULL) {
        cat_buf_puts(b, "NULL");
        return;
    }
    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '\\' || *p < 0x20) {
            plain = false;
            break;
        }
    }
    if (plain) {
        buf_quoted(b, s, '\'');
        return;
    }
    /* A backslash means different things under NO_BACKSLASH_ESCAPES: hex is unambiguous. */
    cat_buf_puts(b, "_utf8mb4 X'");
    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        cat_buf_printf(b, "%02X", *p);
    }
    cat_buf_puts(b, "'");
}

void
cat_buf_json_str(struct cat_buf *b, const char *s)
{
    const unsigned char *p;
    if (s == NULL) {
        cat_buf_puts(b, "null");
        return;
    }
    cat_buf_add(b, "\"", 1);
    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"':
            cat_buf_puts(b, "\\\"");
            break;
        case '\\':
            cat_buf_puts(b, "\\\\");
            break;
        case '\n':
            cat_buf_puts(b, "\\n");
            break;
        case '\t':
            cat_buf_puts(b, "\\t");
            break;
        case '\r':
            cat_buf_puts(b, "\\r");
            break;
        default:
            if (*p < 0x20) {
                cat_buf_printf(b, "\\u%04x", *p);
            } else {
                cat_buf_add(b, (const char *)p, 1);
            }
        }
    }
    cat_buf_add(b, "\"", 1);
}

char *
cat_buf_take(struct cat_buf *b)
{
    char *p = b->p;
    if (p == NULL) {
        p = cat_xstrdup("");
    }
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void
cat_buf_free(struct cat_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- minimal JSON reader (flat objects/arrays of strings) ---- */

static const char *
json_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
        p++;
    }
    return p;
}

/* Read a JSON string or null at P into *OUT (NULL for null); returns the
 * position after it, or NULL when malformed. */
static const char *
json_str(const char *p, char **out)
{
    struct cat_buf b = {0};
    *out = NULL;
    if (strncmp(p, "null", 4) == 0) {
        return p + 4;
    }
    if (*p != '"') {
        return NULL;
    }
    p++;
    while (*p != '"') {
        if (*p == '\0') {
            cat_buf_free(&b);
            return NULL;
        }
        if (*p == '\\') {
            p++;
            switch (*p) {
            case 'n':
                cat_buf_add(&b, "\n", 1);
                break;
            case 't':
                cat_buf_add(&b, "\t", 1);
                break;
            case 'r':
                cat_buf_add(&b, "\r", 1);
                break;
            case 'u': {
                unsigned v = 0;
                int i;
                for (i = 1; i <= 4; i++) {
                    if (!isxdigit((unsigned char)p[i])) {
                        cat_buf_free(&b);
                        return NULL;
                    }
                    v = v * 16 + (unsigned)(isdigit((unsigned char)p[i])
                                                ? p[i] - '0'
                                                : tolower((unsigned char)p[i]) - 'a' + 10);
                }
                p += 4;
                if (v < 0x80) {
                    char c = (char)v;
                    cat_buf_add(&b, &c, 1);
                } else if (v < 0x800) {
                    char u[2] = {(char)(0xC0 | (v >> 6)), (char)(0x80 | (v & 0x3F))};
                    cat_buf_add(&b, u, 2);
                } else {
                    char u[3] = {(char)(0xE0 | (v >> 12)), (char)(0x80 | ((v >> 6) & 0x3F)),
                                 (char)(0x80 | (v & 0x3F))};
                    cat_buf_add(&b, u, 3);
                }
                break;
            }
            case '\0':
                cat_buf_free(&b);
                return NULL;
            default:
                cat_buf_add(&b, p, 1);
            }
            p++;
            continue;
        }
        cat_buf_add(&b, p, 1);
        p++;
    }
    *out = cat_buf_take(&b);
    return p + 1;
}

/*
 * A flat JSON object of strings (OBJECT: keys into *KEYS, values into
 * *VALUES) or array of strings (values into *VALUES; KEYS unused), as the
 * two public readers below document.
 */
static int
json_parse_flat(const char *s, bool object, char ***keys, char ***values)
{
    size_t n = 0, cap = 4;
    char **k = object ? cat_xcalloc(cap, sizeof(char *)) : NULL;
    char **v = cat_xcalloc(cap, sizeof(char *));
    const char *p = json_ws(s ? s : "");
    char close = object ? '}' : ']';
    if (object) {
        *keys = NULL;
    }
    *values = NULL;
    if (*p == '\0') {
        free(k);
        free(v);
        return 0;
    }
    if (*p++ != (object ? '{' : '[')) {
        goto bad;
    }
    p = json_ws(p);
    if (*p == close) {
        goto done;
    }
    for (;;) {
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof(char *));
            if (object) {
                k = realloc(k, cap * sizeof(char *));
            }
            if (v == NULL || (object && k == NULL)) {
                abort();
            }
            memset(v + n, 0, (cap - n) * sizeof(char *));
            if (object) {
                memset(k + n, 0, (cap - n) * sizeof(char *));
            }
        }
        if (object) {
            p = json_str(json_ws(p), &k[n]);
            if (p == NULL || k[n] == NULL) {
                goto bad;
            }
            p = json_ws(p);
            if (*p++ != ':') {
                goto bad;
            }
        }
        p = json_str(json_ws(p), &v[n]);
        n++;
        if (p == NULL) {
            goto bad;
        }
        p = json_ws(p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == close) {
            break;
        }
        goto bad;
    }
done:
    if (object) {
        *keys = k;
    }
    *values = v;
    return (int)n;
bad:
    cat_strv_free(k, cap);
    cat_strv_free(v, cap);
    return -1;
}

int
cat_json_parse_object(const char *s, char ***keys, char ***values)
{
    return json_parse_flat(s, true, keys, values);
}

int
cat_json_parse_array(const char *s, char ***items)
{
    return json_parse_flat(s, false, NULL, items);
}

/* ---- storage column names ---- */

bool
cat_col_name_valid(const char *name)
{
    size_t n = 0, len;
    const unsigned char *p;
    if (name == NULL || name[0] == '\0') {
        return false;
    }
    len = strlen(name);
    if (name[len - 1] == ' ') {
        return false;
    }
    for (p = (const unsigned char *)name; *p != '\0'; p++) {
        if ((*p & 0xC0) != 0x80) {
            n++; /* a character starts here (UTF-8 lead or ASCII byte) */
        }
    }
    return n <= 64;
}

char *
cat_col_name_generate(const char *name, size_t ordinal, const char *const *taken, size_t n_taken)
{
    char base[51], out[80];
    size_t n = 0, i, k;
    const unsigned char *p;
    bool sep = false;
    for (p = (const unsigned char *)(name != NULL ? name : ""); *p != '\0' && n < 50; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '_') {
            if (sep && n > 0 && n < 49) {
                base[n++] = '_';
            }
            sep = false;
            base[n++] = (char)*p;
        } else {
            sep = true;
        }
    }
    while (n > 0 && base[n - 1] == '_') {
        n--;
    }
    base[n] = '\0';
    for (i = 0; base[i] == '_'; i++) {
    }
    if (base[i] == '\0') {
        snprintf(base, sizeof(base), "col");
        i = 0;
    }
    for (k = 1;; k++) {
        bool clash = false;
        size_t t;
        if (k == 1) {
            snprintf(out, sizeof(out), "%s_%zu", base + i, ordinal);
        } else {
            snprintf(out, sizeof(out), "%s_%zu_%zu", base + i, ordinal, k);
        }
        for (t = 0; t < n_taken && !clash; t++) {
            clash = taken[t] != NULL && cat_streq_ci(taken[t], out);
        }
        if (!clash) {
            return cat_xstrdup(out);
        }
    }
}

/* ---- logging ---- */

void
cat_log(int level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (px_log_enabled((enum px_log_level)level)) {
        px_log_write((enum px_log_level)level, __FILE__, __LINE__, "catalog: %s", buf);
    }
}
