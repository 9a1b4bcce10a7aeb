/*
 * rw_expr.h - canonical scalar expressions of the block model.
 *
 * Canonical form (view-matching.md §1): columns are (table instance,
 * lower-case column); operands of commutative operators (+ * = <> AND OR)
 * are sorted by rw_expr_cmp and associative chains flattened; pure integer
 * arithmetic on literals is folded; function names are lower-case with
 * MariaDB aliases normalised (CURDATE -> current_date, SUBSTR -> substring,
 * IFNULL/2 -> coalesce, LCASE -> lower, ...). Two expressions match when
 * rw_expr_cmp() returns 0. Literals keep their ORIGINAL MariaDB text for
 * emission and a typed value for comparisons.
 */
#ifndef RW_EXPR_H
#define RW_EXPR_H

#include <stdbool.h>
#include <stddef.h>

enum rw_ek {
    RW_E_COL = 1,   /* column: tab, name (lower case) */
    RW_E_CONST,     /* literal: ctype, val, text */
    RW_E_OP,        /* operator NAME ("+", "-", "*", "/", "%", "div", "=", "<>", "<", ...) */
    RW_E_AND,       /* conjunction, n >= 2 */
    RW_E_OR,        /* disjunction, n >= 2 */
    RW_E_NOT,       /* NOT args[0] */
    RW_E_FUNC,      /* scalar function NAME(args) */
    RW_E_AGG,       /* aggregate NAME (sum count min max avg), distinct; n = 0 is COUNT(*) */
    RW_E_ISNULL,    /* args[0] IS NULL (neg: IS NOT NULL) */
    RW_E_IN,        /* args[0] IN (args[1..]) (neg: NOT IN) */
    RW_E_BETWEEN,   /* args[0] BETWEEN args[1] AND args[2] (neg: NOT BETWEEN) */
    RW_E_LIKE,      /* args[0] LIKE args[1] (neg: NOT LIKE) */
    RW_E_CASE,      /* CASE [args[0] if case_arg] WHEN a THEN b ... [ELSE last if has_else] END */
    RW_E_VCOL,      /* column NAME of the view storage table (emission only) */
    RW_E_CAST,      /* CAST(args[0] AS NAME): NAME is the canonical upper-case MariaDB
                       type ("SIGNED", "DECIMAL(34,2)", "DATE", "CHAR(10)") */
    RW_E_WIN,       /* window function: args[0] the call (RW_E_FUNC, or RW_E_AGG for an
                       aggregate), args[1] RW_E_WPART, args[2] RW_E_WORDER, args[3]
                       RW_E_WFRAME; NAME is the call's name */
    RW_E_WPART,     /* PARTITION BY list (args, sorted: the order does not matter) */
    RW_E_WORDER,    /* window ORDER BY list: args are RW_E_WSORT, in order */
    RW_E_WSORT,     /* one window ORDER BY item: args[0] (neg: DESC) */
    RW_E_WFRAME,    /* frame: NAME "" (the default frame) or "<ROWS|RANGE> <start> <end>",
                       each bound UP (unbounded preceding), P (offset preceding), CR
                       (current row), F (offset following), UF (unbounded following);
                       args: the offsets (start's, then end's), constants */
};

enum rw_ctype {
    RW_C_NULL = 1,  /* NULL */
    RW_C_INT,       /* integer literal; val = digits with optional '-' */
    RW_C_DEC,       /* exact decimal literal; val as written (sign kept) */
    RW_C_FLOAT,     /* approximate (1e3); compared only for identity */
    RW_C_STR,       /* string; val = the string's value */
    RW_C_BOOL,      /* TRUE/FALSE; val "1"/"0" */
    RW_C_DATE,      /* typed DATE/TIMESTAMP literal; val normalised 'YYYY-MM-DD HH:MM:SS' */
};

struct rw_expr {
    enum rw_ek kind;            /* node kind */
    bool neg;                   /* NOT IN / NOT BETWEEN / NOT LIKE / IS NOT NULL */
    bool distinct;              /* aggregate DISTINCT */
    bool case_arg;              /* CASE has an operand (args[0]) */
    bool has_else;              /* CASE has ELSE (last arg) */
    int tab;                    /* COL: table instance index */
    char *name;                 /* COL/VCOL column, OP/FUNC/AGG name (owned) */
    enum rw_ctype ctype;        /* CONST: type */
    char *val;                  /* CONST: comparable value (owned) */
    char *text;                 /* CONST: original MariaDB text (owned) */
    size_t n;                   /* number of args */
    struct rw_expr **args;      /* operands (owned) */
};

/* New node of KIND with NAME copied (may be NULL); NULL on OOM. */
struct rw_expr *rw_expr_new(enum rw_ek kind, const char *name);

/* Append ARG (consumed, also on failure) to E; -1 on OOM. */
int rw_expr_add(struct rw_expr *e, struct rw_expr *arg);

/* Deep copy of E (NULL on OOM or when E is NULL). */
struct rw_expr *rw_expr_copy(const struct rw_expr *e);

/* Free E and everything below it (NULL ignored). */
void rw_expr_free(struct rw_expr *e);

/* Total order on canonical trees; 0 means "the same expression". */
int rw_expr_cmp(const struct rw_expr *a, const struct rw_expr *b);

/*
 * Canonicalise E in place (bottom-up): flatten + * AND OR chains, sort the
 * operands of commutative operators, fold integer literal arithmetic.
 * Returns E (possibly replaced: the old node is freed) or NULL on OOM.
 */
struct rw_expr *rw_expr_canon(struct rw_expr *e);

/* True when E contains an aggregate call (of its block: aggregates inside a
 * window function, RW_E_WIN, are not counted). */
bool rw_expr_has_agg(const struct rw_expr *e);

/* True when E contains a window function (RW_E_WIN). */
bool rw_expr_has_win(const struct rw_expr *e);

/* True when E contains a column reference of any table. */
bool rw_expr_has_col(const struct rw_expr *e);

/* True when function NAME (canonical lower case) is non-deterministic. */
bool rw_func_nondeterministic(const char *name);

/* True when E calls a non-deterministic function anywhere. */
bool rw_expr_nondeterministic(const struct rw_expr *e);

/* Canonical lower-case name of MariaDB function NAME with NARGS arguments
 * (aliases folded); returns a static or NAME itself. */
const char *rw_func_canon_name(const char *name, size_t nargs);

/* Normalise a date/datetime string literal VAL to 'YYYY-MM-DD HH:MM:SS'
 * into OUT (20 bytes); false when VAL is not in a strict form. */
bool rw_norm_datetime(const char *val, char out[20]);

/* Day of the week of normalised datetime N ('YYYY-MM-DD HH:MM:SS', as
 * rw_norm_datetime writes it) in the proleptic Gregorian calendar, as
 * MariaDB's WEEKDAY(): 0 = Monday .. 6 = Sunday; -1 when N is not a valid
 * calendar date (month 0, day 0, February 30, ...). */
int rw_weekday(const char *n);

/* Compare exact decimal strings A and B numerically (-1, 0, 1). */
int rw_dec_cmp(const char *a, const char *b);

#endif /* RW_EXPR_H */
