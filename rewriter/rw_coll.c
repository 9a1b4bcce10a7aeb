/*
 * rw_coll.c - conservative comparison of string literals under a MariaDB
 * collation (see rw_coll.h for the decided subsets). The orderings follow
 * MariaDB's strings/ctype-bin.c and ctype-mb.c (*_bin: code point order,
 * PAD SPACE pads the shorter string with spaces), ctype-utf8.c and
 * ctype-uca.c (general_ci / unicode_ci: ASCII letters fold case, digits
 * sort before letters, no ASCII contraction or ignorable among printable
 * characters); tests/integration/itest_coll.c checks each claim on the
 * server.
 */
#include "rw_coll.h"

#include <stddef.h>
#include <string.h>

enum fam {
    F_BIN = 1,  /* binary order of code points (bytes for ASCII) */
    F_CI,       /* case-insensitive, ASCII part known */
};

struct cinfo {
    const char *name;   /* COLLATION_NAME, lower case */
    enum fam fam;       /* family */
    bool pad;           /* PAD SPACE (else NO PAD) */
};

static const struct cinfo known[] = {
    {"utf8mb4_bin", F_BIN, true},
    {"utf8mb3_bin", F_BIN, true},
    {"utf8_bin", F_BIN, true},
    {"latin1_bin", F_BIN, true},
    {"ascii_bin", F_BIN, true},
    {"utf8mb4_nopad_bin", F_BIN, false},
    {"utf8mb3_nopad_bin", F_BIN, false},
    {"latin1_nopad_bin", F_BIN, false},
    {"ascii_nopad_bin", F_BIN, false},
    {"utf8mb4_general_ci", F_CI, true},
    {"utf8mb3_general_ci", F_CI, true},
    {"utf8_general_ci", F_CI, true},
    {"utf8mb4_unicode_ci", F_CI, true},
    {"utf8mb3_unicode_ci", F_CI, true},
    {"utf8_unicode_ci", F_CI, true},
    {"utf8mb4_unicode_520_ci", F_CI, true},
    {"utf8mb3_unicode_520_ci", F_CI, true},
    {"utf8mb4_uca1400_ai_ci", F_CI, true},
    {"utf8mb3_uca1400_ai_ci", F_CI, true},
    {"latin1_swedish_ci", F_CI, true},
    {"latin1_general_ci", F_CI, true},
    {"ascii_general_ci", F_CI, true},
    {"utf8mb4_general_nopad_ci", F_CI, false},
    {"utf8mb3_general_nopad_ci", F_CI, false},
    {"utf8mb4_unicode_nopad_ci", F_CI, false},
    {"utf8mb4_unicode_520_nopad_ci", F_CI, false},
    {"utf8mb4_uca1400_nopad_ai_ci", F_CI, false},
    {"latin1_swedish_nopad_ci", F_CI, false},
    {"ascii_general_nopad_ci", F_CI, false},
};


/* The entry of COLL, or NULL when unknown. */
static const struct cinfo *
lookup(const char *coll)
{
    size_t i;
    if (coll == NULL) {
        return NULL;
    }
    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(known[i].name, coll) == 0) {
            return &known[i];
        }
    }
    return NULL;
}

bool
rw_coll_known(const char *coll)
{
    return lookup(coll) != NULL;
}

const char *
rw_coll_known_name(size_t i)
{
    return i < sizeof(known) / sizeof(known[0]) ? known[i].name : NULL;
}

/* Every byte of S in 1..127 (ASCII; the connection charset cannot matter). */
static bool
ascii(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s > 0x7f) {
            return false;
        }
    }
    return true;
}

/* Every byte of S printable ASCII (0x20..0x7e). */
static bool
printable(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
            return false;
        }
    }
    return true;
}

/* Length of S without trailing spaces. */
static size_t
rtrim_len(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ') {
        n--;
    }
    return n;
}

static bool
is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char
fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* S in the ordered subset of family F (see rw_coll.h). */
static bool
ordered(const struct cinfo *ci, const char *s)
{
    size_t i, n;
    if (ci->fam == F_BIN) {
        return ascii(s);
    }
    n = ci->pad ? rtrim_len(s) : strlen(s);
    for (i = 0; i < n; i++) {
        if (!is_alnum(s[i])) {
            return false;
        }
    }
    return s[n] == '\0' || ci->pad;
}

bool
rw_coll_orderable(const char *coll, const char *s)
{
    const struct cinfo *ci = lookup(coll);
    return ci != NULL && s != NULL && ordered(ci, s);
}

/* Binary compare of A and B (ASCII), PAD SPACE when PAD. */
static int
bin_cmp(const char *a, const char *b, bool pad)
{
    size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb, i;
    int c = memcmp(a, b, n);
    const char *tail;
    int sign;
    if (c != 0) {
        return c < 0 ? -1 : 1;
    }
    if (la == lb) {
        return 0;
    }
    if (!pad) {
        return la < lb ? -1 : 1;
    }
    /* the shorter one is padded with spaces: the longer one's tail decides */
    tail = la > lb ? a + n : b + n;
    sign = la > lb ? 1 : -1;
    for (i = 0; tail[i] != '\0'; i++) {
        if (tail[i] != ' ') {
            return (unsigned char)tail[i] > ' ' ? sign : -sign;
        }
    }
    return 0;
}

/* Case-folded compare of the first LA / LB bytes of A and B; a prefix sorts first. */
static int
fold_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    size_t i, n = la < lb ? la : lb;
    for (i = 0; i < n; i++) {
        char x = fold(a[i]), y = fold(b[i]);
        if (x != y) {
            return (unsigned char)x < (unsigned char)y ? -1 : 1;
        }
    }
    return la == lb ? 0 : la < lb ? -1 : 1;
}

bool
rw_coll_cmp(const char *coll, const char *a, const char *b, int *res)
{
    const struct cinfo *ci = lookup(coll);
    if (ci == NULL || a == NULL || b == NULL || !ordered(ci, a) || !ordered(ci, b)) {
        return false;
    }
    if (ci->fam == F_BIN) {
        *res = bin_cmp(a, b, ci->pad);
    } else if (ci->pad) {
        *res = fold_cmp(a, rtrim_len(a), b, rtrim_len(b));
    } else {
        *res = fold_cmp(a, strlen(a), b, strlen(b));
    }
    return true;
}

bool
rw_coll_eq(const char *coll, const char *a, const char *b, bool *eq)
{
    const struct cinfo *ci;
    if (a == NULL || b == NULL) {
        return false;
    }
    if (strcmp(a, b) == 0) {
        *eq = true; /* the same bytes: equal under any collation */
        return true;
    }
    ci = lookup(coll);
    if (ci == NULL) {
        return false;
    }
    if (ci->fam == F_BIN) {
        if (!ascii(a) || !ascii(b)) {
            return false;
        }
        *eq = bin_cmp(a, b, ci->pad) == 0;
        return true;
    }
    if (!printable(a) || !printable(b)) {
        return false;
    }
    if (ci->pad) {
        *eq = fold_cmp(a, rtrim_len(a), b, rtrim_len(b)) == 0;
    } else {
        *eq = fold_cmp(a, strlen(a), b, strlen(b)) == 0;
    }
    return true;
}
