/*
 * rw_expr.c - canonical expression trees: construction, copy, total
 * order, canonicalisation (sort/flatten/fold) and the function tables
 * (aliases, non-deterministic functions) they rely on.
 */
#include "rw_expr.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rw_util.h"

struct rw_expr *
rw_expr_new(enum rw_ek kind, const char *name)
{
    struct rw_expr *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return NULL;
    }
    e->kind = kind;
    e->tab = -1;
    if (name != NULL) {
        e->name = rw_strdup(name);
        if (e->name == NULL) {
            free(e);
            return NULL;
        }
    }
    return e;
}

int
rw_expr_add(struct rw_expr *e, struct rw_expr *arg)
{
    struct rw_expr **a;
    if (arg == NULL) {
        return -1;
    }
    a = realloc(e->args, (e->n + 1) * sizeof(*a));
    if (a == NULL) {
        rw_expr_free(arg);
        return -1;
    }
    e->args = a;
    e->args[e->n++] = arg;
    return 0;
}

void
rw_expr_free(struct rw_expr *e)
{
    size_t i;
    if (e == NULL) {
        return;
    }
    for (i = 0; i < e->n; i++) {
        rw_expr_free(e->args[i]);
    }
    free(e->args);
    free(e->name);
    free(e->val);
    free(e->text);
    free(e);
}

struct rw_expr *
rw_expr_copy(const struct rw_expr *e)
{
    struct rw_expr *c;
    size_t i;
    if (e == NULL) {
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    *c = *e;
    c->name = NULL;
    c->val = NULL;
    c->text = NULL;
    c->args = NULL;
    c->n = 0;
    if ((e->name && !(c->name = rw_strdup(e->name))) || (e->val && !(c->val = rw_strdup(e->val))) ||
        (e->text && !(c->text = rw_strdup(e->text)))) {
        rw_expr_free(c);
        return NULL;
    }
    for (i = 0; i < e->n; i++) {
        if (rw_expr_add(c, rw_expr_copy(e->args[i])) != 0) {
            rw_expr_free(c);
            return NULL;
        }
    }
    return c;
}

/* strcmp that orders NULL first. */
static int
scmp(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return (a != NULL) - (b != NULL);
    }
    return strcmp(a, b);
}

int
rw_expr_cmp(const struct rw_expr *a, const struct rw_expr *b)
{
    int c;
    size_t i;
    if (a == NULL || b == NULL) {
        return (a != NULL) - (b != NULL);
    }
    if (a->kind != b->kind) {
        return a->kind < b->kind ? -1 : 1;
    }
    if (a->tab != b->tab) {
        return a->tab < b->tab ? -1 : 1;
    }
    if ((c = scmp(a->name, b->name)) != 0) {
        return c;
    }
    if (a->kind == RW_E_CONST) {
        if (a->ctype != b->ctype) {
            return a->ctype < b->ctype ? -1 : 1;
        }
        if ((c = scmp(a->val, b->val)) != 0) {
            return c;
        }
    }
    if (a->neg != b->neg) {
        return a->neg ? 1 : -1;
    }
    if (a->distinct != b->distinct) {
        return a->distinct ? 1 : -1;
    }
    if (a->case_arg != b->case_arg) {
        return a->case_arg ? 1 : -1;
    }
    if (a->has_else != b->has_else) {
        return a->has_else ? 1 : -1;
    }
    if (a->n != b->n) {
        return a->n < b->n ? -1 : 1;
    }
    for (i = 0; i < a->n; i++) {
        if ((c = rw_expr_cmp(a->args[i], b->args[i])) != 0) {
            return c;
        }
    }
    return 0;
}

/* qsort adapter over struct rw_expr *. */
static int
cmp_ptr(const void *a, const void *b)
{
    return rw_expr_cmp(*(struct rw_expr *const *)a, *(struct rw_expr *const *)b);
}

/* True for date arithmetic: a + or - with an INTERVAL operand (the bridge's
 * mvp_interval). It is neither commutative nor associative: d + INTERVAL 1
 * MONTH + INTERVAL 1 DAY differs from d + INTERVAL 1 DAY + INTERVAL 1 MONTH,
 * and MariaDB rejects INTERVAL .. + INTERVAL ... */
static bool
is_date_arith(const struct rw_expr *e)
{
    size_t i;
    if (e->kind != RW_E_OP || e->name == NULL ||
        (strcmp(e->name, "+") != 0 && strcmp(e->name, "-") != 0)) {
        return false;
    }
    for (i = 0; i < e->n; i++) {
        if (e->args[i]->kind == RW_E_FUNC && strcmp(e->args[i]->name, "mvp_interval") == 0) {
            return true;
        }
    }
    return false;
}

/* True for operators whose operands may be reordered. */
static bool
is_commutative(const struct rw_expr *e)
{
    if (e->kind == RW_E_AND || e->kind == RW_E_OR || e->kind == RW_E_WPART) {
        return true;
    }
    if (is_date_arith(e)) {
        return false;
    }
    return e->kind == RW_E_OP && e->name != NULL &&
           (strcmp(e->name, "+") == 0 || strcmp(e->name, "*") == 0 ||
            strcmp(e->name, "=") == 0 || strcmp(e->name, "<>") == 0 ||
            strcmp(e->name, "<=>") == 0);
}

/* True for operators whose nested chains may be flattened. */
static bool
is_assoc(const struct rw_expr *e)
{
    if (e->kind == RW_E_AND || e->kind == RW_E_OR) {
        return true;
    }
    if (is_date_arith(e)) {
        return false;
    }
    return e->kind == RW_E_OP && e->name != NULL &&
           (strcmp(e->name, "+") == 0 || strcmp(e->name, "*") == 0);
}

/* Parse a canonical integer literal value; false when out of range. */
static bool
int_val(const struct rw_expr *e, int64_t *v)
{
    char *end;
    long long x;
    if (e->kind != RW_E_CONST || e->ctype != RW_C_INT || e->val == NULL) {
        return false;
    }
    errno = 0;
    x = strtoll(e->val, &end, 10);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *v = (int64_t)x;
    return true;
}

/* Fold E = int OP int (+ - *) into a literal; returns E unchanged when not foldable. */
static struct rw_expr *
fold(struct rw_expr *e)
{
    int64_t acc, v;
    size_t i;
    bool add, sub, mul;
    struct rw_expr *c;
    if (e->kind != RW_E_OP || e->n < 2) {
        return e;
    }
    add = strcmp(e->name, "+") == 0;
    sub = strcmp(e->name, "-") == 0 && e->n == 2;
    mul = strcmp(e->name, "*") == 0;
    if (!add && !sub && !mul) {
        return e;
    }
    if (!int_val(e->args[0], &acc)) {
        return e;
    }
    for (i = 1; i < e->n; i++) {
        if (!int_val(e->args[i], &v)) {
            return e;
        }
        if ((add && __builtin_add_overflow(acc, v, &acc)) ||
            (sub && __builtin_sub_overflow(acc, v, &acc)) ||
            (mul && __builtin_mul_overflow(acc, v, &acc))) {
            return e;
        }
    }
    c = rw_expr_new(RW_E_CONST, NULL);
    if (c == NULL) {
        return e;
    }
    c->ctype = RW_C_INT;
    c->val = rw_sprintf("%" PRId64, acc);
    c->text = rw_sprintf(acc < 0 ? "(%" PRId64 ")" : "%" PRId64, acc);
    if (c->val == NULL || c->text == NULL) {
        rw_expr_free(c);
        return e;
    }
    rw_expr_free(e);
    return c;
}

/*
 * Orient comparisons: a literal goes right (`5 < x` -> `x > 5`); between two
 * non-literals, `a > b` becomes `b < a` (and >= likewise).
 */
static void
orient(struct rw_expr *e)
{
    static const char *const flip[][2] = {{"<", ">"}, {"<=", ">="}, {">", "<"}, {">=", "<="},
                                          {NULL, NULL}};
    size_t i;
    bool swap;
    if (e->kind != RW_E_OP || e->n != 2) {
        return;
    }
    for (i = 0; flip[i][0] != NULL; i++) {
        if (strcmp(e->name, flip[i][0]) == 0) {
            break;
        }
    }
    if (flip[i][0] == NULL) {
        return;
    }
    if (e->args[0]->kind == RW_E_CONST && e->args[1]->kind != RW_E_CONST) {
        swap = true;
    } else if (e->args[1]->kind == RW_E_CONST) {
        swap = false;
    } else {
        swap = e->name[0] == '>';
    }
    if (swap) {
        struct rw_expr *t = e->args[0];
        char *nm = rw_strdup(flip[i][1]);
        if (nm == NULL) {
            return;
        }
        e->args[0] = e->args[1];
        e->args[1] = t;
        free(e->name);
        e->name = nm;
    }
}

struct rw_expr *
rw_expr_canon(struct rw_expr *e)
{
    size_t i;
    if (e == NULL) {
        return NULL;
    }
    for (i = 0; i < e->n; i++) {
        e->args[i] = rw_expr_canon(e->args[i]);
        if (e->args[i] == NULL) {
            rw_expr_free(e);
            return NULL;
        }
    }
    if (is_assoc(e)) {
        /* flatten: children of the same operator are spliced in */
        size_t j;
        for (i = 0; i < e->n; i++) {
            struct rw_expr *ch = e->args[i];
            if (ch->kind == e->kind && (e->kind != RW_E_OP || strcmp(ch->name, e->name) == 0) &&
                !is_date_arith(ch)) {
                struct rw_expr **a = realloc(e->args, (e->n + ch->n) * sizeof(*a));
                if (a == NULL) {
                    rw_expr_free(e);
                    return NULL;
                }
                e->args = a;
                memmove(&e->args[i + ch->n], &e->args[i + 1], (e->n - i - 1) * sizeof(*a));
                for (j = 0; j < ch->n; j++) {
                    e->args[i + j] = ch->args[j];
                }
                e->n += ch->n - 1;
                ch->n = 0;
                rw_expr_free(ch);
                i--;
            }
        }
    }
    if (is_commutative(e) && e->n > 1) { /* an empty PARTITION BY has no args array */
        qsort(e->args, e->n, sizeof(*e->args), cmp_ptr);
    }
    orient(e);
    return fold(e);
}

bool
rw_expr_has_agg(const struct rw_expr *e)
{
    size_t i;
    if (e == NULL) {
        return false;
    }
    if (e->kind == RW_E_AGG) {
        return true;
    }
    if (e->kind == RW_E_WIN) {
        return false; /* SUM(x) OVER (...) is computed per row, after grouping */
    }
    for (i = 0; i < e->n; i++) {
        if (rw_expr_has_agg(e->args[i])) {
            return true;
        }
    }
    return false;
}

bool
rw_expr_has_win(const struct rw_expr *e)
{
    size_t i;
    if (e == NULL) {
        return false;
    }
    if (e->kind == RW_E_WIN) {
        return true;
    }
    for (i = 0; i < e->n; i++) {
        if (rw_expr_has_win(e->args[i])) {
            return true;
        }
    }
    return false;
}

bool
rw_expr_has_col(const struct rw_expr *e)
{
    size_t i;
    if (e == NULL) {
        return false;
    }
    if (e->kind == RW_E_COL || e->kind == RW_E_VCOL) {
        return true;
    }
    for (i = 0; i < e->n; i++) {
        if (rw_expr_has_col(e->args[i])) {
            return true;
        }
    }
    return false;
}

bool
rw_func_nondeterministic(const char *name)
{
    static const char *const nd[] = {
        "now", "current_timestamp", "sysdate", "rand", "uuid", "uuid_short", "current_date",
        "curdate", "curtime", "current_time", "localtime", "localtimestamp", "utc_date",
        "utc_time", "utc_timestamp", "unix_timestamp", "user", "current_user", "session_user",
        "system_user", "current_role", "connection_id", "last_insert_id", "found_rows",
        "row_count", "database", "schema", "sleep", "benchmark", "get_lock", "release_lock",
        "is_free_lock", "is_used_lock", "master_pos_wait", "nextval", "lastval", "setval",
        "sys_guid", "random_bytes", "current_schema", "current_catalog", NULL};
    size_t i;
    for (i = 0; nd[i] != NULL; i++) {
        if (strcmp(nd[i], name) == 0) {
            return true;
        }
    }
    return false;
}

bool
rw_expr_nondeterministic(const struct rw_expr *e)
{
    size_t i;
    if (e == NULL) {
        return false;
    }
    if (e->kind == RW_E_FUNC && rw_func_nondeterministic(e->name)) {
        return true;
    }
    for (i = 0; i < e->n; i++) {
        if (rw_expr_nondeterministic(e->args[i])) {
            return true;
        }
    }
    return false;
}

const char *
rw_func_canon_name(const char *name, size_t nargs)
{
    static const char *const alias[][2] = {
        {"curdate", "current_date"},     {"current_date", "current_date"},
        {"now", "now"},                  {"current_timestamp", "now"},
        {"localtime", "now"},            {"localtimestamp", "now"},
        {"curtime", "current_time"},     {"substr", "substring"},
        {"mid", "substring"},            {"lcase", "lower"},
        {"ucase", "upper"},              {"dayofmonth", "day"},
        {"character_length", "char_length"},
        {"pow", "power"},                {"ceiling", "ceil"},
        {NULL, NULL}};
    size_t i;
    if (strcmp(name, "ifnull") == 0 && nargs == 2) {
        return "coalesce";
    }
    for (i = 0; alias[i][0] != NULL; i++) {
        if (strcmp(alias[i][0], name) == 0) {
            return alias[i][1];
        }
    }
    return name;
}

/* Read exactly N digits at *P into *V; advances *P. */
static bool
digits(const char **p, int n, int *v)
{
    int i;
    *v = 0;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return false;
        }
        *v = *v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return true;
}

bool
rw_norm_datetime(const char *val, char out[20])
{
    const char *p = val;
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d)) {
        return false;
    }
    if (*p == ' ' || *p == 'T') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
            !digits(&p, 2, &s)) {
            return false;
        }
        if (*p == '.') {
            /* fractional seconds: only an all-zero fraction keeps the value exact here */
            p++;
            while (*p == '0') {
                p++;
            }
        }
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) {
        return false;
    }
    /* the modulos only tell the compiler the widths digits() already guarantees */
    snprintf(out, 20, "%04u-%02u-%02u %02u:%02u:%02u", (unsigned)y % 10000u, (unsigned)mo % 100u,
             (unsigned)d % 100u, (unsigned)h % 100u, (unsigned)mi % 100u, (unsigned)s % 100u);
    return true;
}

int
rw_weekday(const char *n)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = n;
    int y, m, d, dim;
    long yy, era, yoe, doy, doe, days;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &m) || *p++ != '-' ||
        !digits(&p, 2, &d) || m < 1 || m > 12 || d < 1) {
        return -1;
    }
    dim = mdays[m - 1];
    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) {
        dim = 29;
    }
    if (d > dim) {
        return -1;
    }
    /* days since 1970-01-01 (H. Hinnant's days_from_civil) */
    yy = m <= 2 ? y - 1 : y;
    era = (yy >= 0 ? yy : yy - 399) / 400;
    yoe = yy - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468;
    /* 1970-01-01 was a Thursday (WEEKDAY 3) */
    return (int)(((days % 7) + 7 + 3) % 7);
}

/* Split decimal string S into sign, integer digits (no leading zeros) and fraction (no trailing). */
static void
dec_split(const char *s, int *neg, const char **ip, size_t *il, const char **fp, size_t *fl)
{
    const char *dot;
    *neg = 0;
    if (*s == '-' || *s == '+') {
        *neg = *s == '-';
        s++;
    }
    while (*s == '0') {
        s++;
    }
    dot = strchr(s, '.');
    *ip = s;
    *il = dot ? (size_t)(dot - s) : strlen(s);
    *fp = dot ? dot + 1 : "";
    *fl = strlen(*fp);
    while (*fl > 0 && (*fp)[*fl - 1] == '0') {
        (*fl)--;
    }
}

int
rw_dec_cmp(const char *a, const char *b)
{
    int na, nb, c = 0, sign;
    const char *ia, *ib, *fa, *fb;
    size_t la, lb, ga, gb, i;
    dec_split(a, &na, &ia, &la, &fa, &ga);
    dec_split(b, &nb, &ib, &lb, &fb, &gb);
    if (la == 0 && ga == 0) {
        na = 0;
    }
    if (lb == 0 && gb == 0) {
        nb = 0;
    }
    if (na != nb) {
        return na ? -1 : 1;
    }
    sign = na ? -1 : 1;
    if (la != lb) {
        return la < lb ? -sign : sign;
    }
    if ((c = strncmp(ia, ib, la)) != 0) {
        return c < 0 ? -sign : sign;
    }
    for (i = 0; i < ga || i < gb; i++) {
        char ca = i < ga ? fa[i] : '0', cb = i < gb ? fb[i] : '0';
        if (ca != cb) {
            return ca < cb ? -sign : sign;
        }
    }
    return 0;
}
