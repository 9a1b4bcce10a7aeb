/*
 * rw_model.h - the SPJG model of one SELECT block (view-matching.md §1):
 * table instances, WHERE/ON conjuncts (canonical), GROUP BY, outputs,
 * HAVING, ORDER BY, LIMIT, DISTINCT; and its predicate analysis:
 * equivalence classes (union-find over column = column), typed ranges per
 * class, residual conjuncts.
 */
#ifndef RW_MODEL_H
#define RW_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "rw_expr.h"
#include "rw_parse.h"

struct cat_snapshot;
struct cat_key;

/* A column of a table instance (copied from the catalog schema). */
struct rw_mcol {
    char *name;             /* lower case */
    char *decl;             /* as declared (output names of SELECT *) */
    char *data_type;        /* lower case DATA_TYPE */
    char *column_type;      /* lower case COLUMN_TYPE ("decimal(12,2)", "int(10) unsigned"), may be "" */
    bool nullable;          /* IS_NULLABLE */
    char *collation;        /* lower case COLLATION_NAME; NULL for non-strings or unknown */
    char *charset;          /* lower case CHARACTER_SET_NAME; NULL for non-strings or unknown */
};

/* One table instance in FROM. */
struct rw_tab {
    char *key;              /* "db.table" lower case */
    char *db;               /* database (as the catalog spells it) */
    char *name;             /* table name */
    char *alias;            /* alias, lower case (the table name when none) */
    size_t n_cols;          /* columns */
    struct rw_mcol *cols;   /* in ordinal order */
    size_t n_ukeys;         /* declared PRIMARY KEY / UNIQUE keys */
    struct cat_key *ukeys;  /* owned copies (rw_keys_dup) */
    size_t n_fkeys;         /* declared FOREIGN KEYs */
    struct cat_key *fkeys;  /* owned copies (rw_keys_dup) */
    bool star;              /* its columns are listed by a SELECT * / alias.* */
    bool opaque;            /* an opaque derived table (a GROUP BY / DISTINCT / HAVING body
                               that cannot be merged): columns are the body's outputs, KEY
                               is "derived:" + a hash of SIG, no declared keys */
    char *sig;              /* opaque: canonical signature of the body (owned), else NULL */
    struct rw_model *body;  /* opaque: the body's model (owned; NULL in copies), else NULL */
};

/* One output of the select list. */
struct rw_out {
    char *name;             /* column name MariaDB reports (alias or item text) */
    struct rw_expr *e;      /* canonical expression, NULL when opaque */
    char *vcol;             /* views: storage column name; NULL for queries */
    char *vtype;            /* views: storage COLUMN_TYPE, lower case ("bigint(21)"); NULL unknown */
};

/* One ORDER BY item. */
struct rw_sort {
    struct rw_expr *e;      /* expression, NULL when out_ref >= 0 */
    int out_ref;            /* output index (alias or ordinal reference), -1 when none */
    bool desc;              /* DESC */
};

enum rw_rtype {
    RW_R_NONE = 0,          /* no range semantics: residual only */
    RW_R_NUM,               /* exact numbers (int family, decimal) */
    RW_R_DT,                /* date / datetime / timestamp */
    RW_R_STR,               /* strings: compared in the column's collation (rw_coll.h) */
};

/* Range constraint of one equivalence class (intersection of its atoms). */
struct rw_range {
    enum rw_rtype type;     /* value domain; RW_R_NONE = unconstrained */
    bool has_lo, lo_incl;   /* lower bound */
    char *lo;               /* comparable value (owned) */
    bool has_hi, hi_incl;   /* upper bound */
    char *hi;               /* comparable value (owned) */
    bool has_pts;           /* point set (=, IN) */
    size_t n_pts;           /* points */
    char **pts;             /* comparable values (owned) */
    bool empty;             /* contradiction */
    const char *coll;       /* RW_R_STR: the column's collation (borrowed from the
                               model's schema), NULL when unknown */
    char *note;             /* why a string atom on this class stayed residual (the
                               collation cannot compare its literals), or NULL (owned) */
    size_t n_src;           /* conjuncts that formed it */
    struct rw_expr **src;   /* borrowed from the model's conj[] */
};

/* A column that appears in a conjunct (union-find node). */
struct rw_pcol {
    int tab;                /* table instance */
    const char *col;        /* lower case column (borrowed from the model) */
    int parent;             /* union-find parent index */
    enum rw_rtype rtype;    /* domain from the schema */
    const struct rw_mcol *mc; /* schema column (borrowed) */
};

/* Predicate analysis of a model. */
struct rw_pred {
    size_t n_cols;          /* columns seen in conjuncts */
    struct rw_pcol *cols;   /* union-find nodes */
    struct rw_range *ranges; /* n_cols entries; meaningful at roots */
    size_t n_resid;         /* residual conjuncts */
    struct rw_expr **resid; /* borrowed from conj[] */
};

/*
 * One outer join of the block, normalised to LEFT JOIN (RIGHT JOIN swaps
 * its sides). Its identity is the null-supplying table instance plus the
 * set of ON conjuncts (view-matching.md §5): the ON is never a WHERE
 * conjunct. A block with outer joins is, in normal form,
 *
 *   σ[conj] ( (×  preserved instances)  ⟕[on_1] tab_1  ⟕[on_2] tab_2 ... )
 *
 * where each ON references only earlier tables (left joins of a single
 * table commute unless one ON names the other's table, so the set of
 * (tab, on) pairs determines the result). Inner-join ON conjuncts join
 * conj[]: moved above the left joins they equal a WHERE filter.
 */
struct rw_ojoin {
    int tab;                /* null-supplying table instance */
    size_t n_on;            /* ON conjuncts */
    struct rw_expr **on;    /* canonical (owned) */
};

struct rw_model {
    size_t n_tabs;          /* table instances */
    struct rw_tab *tabs;    /* in FROM order */
    size_t n_conj;          /* WHERE + inner-join ON conjuncts */
    struct rw_expr **conj;  /* canonical (owned) */
    size_t n_oj;            /* outer joins (LEFT after normalisation) */
    struct rw_ojoin *oj;    /* each with its null-supplying instance and ON */
    size_t n_group;         /* GROUP BY expressions */
    struct rw_expr **group; /* canonical (owned) */
    size_t n_out;           /* outputs */
    struct rw_out *out;     /* select list */
    struct rw_expr *having; /* HAVING or NULL */
    size_t n_sort;          /* ORDER BY items */
    struct rw_sort *sort;   /* ORDER BY */
    char *limit_text;       /* LIMIT count, original text, or NULL */
    char *offset_text;      /* OFFSET, original text, or NULL */
    bool distinct;          /* SELECT DISTINCT */
    bool is_agg;            /* GROUP BY or aggregates present */
    bool nondet;            /* uses a non-deterministic function */
    bool has_win;           /* outputs (or ORDER BY) use window functions (RW_E_WIN) */
    char *opaque_why;       /* why some window output was made opaque (e = NULL): its
                               value depends on how ties are broken; NULL when none */
    bool has_derived;       /* derived tables (subqueries in FROM) were merged into it */
    size_t n_read;          /* expressions read only by merged derived tables */
    struct rw_expr **read;  /* their select lists (owned): for the privilege guard only */
    struct rw_pred pred;    /* analysis of conj[] */
};

/* The model of a view: direct (over what it names) and unfolded (base tables). */
struct rw_mv_model {
    struct rw_model *direct;    /* over the tables/views the definition names */
    struct rw_model *unfolded;  /* over base tables when it reads views, else NULL */
    size_t n_tables;            /* rw_mv_model_tables() keys */
    char **tables;              /* "db.table" lower case (owned) */
};

/*
 * Build the model of the SELECT block S of parse P, resolving tables
 * against DB and schemas in SNAP. Returns the model (free with
 * rw_model_free) or NULL with a reason in *ERR (caller frees).
 *
 * Derived tables (subqueries in FROM) are merged into the block ("view
 * merging", as MariaDB's optimizer_switch=derived_merge does) when their
 * body is one SELECT without GROUP BY, aggregates, HAVING, DISTINCT,
 * LIMIT/OFFSET, window functions or set operations, and their own FROM is
 * mergeable: their base tables become instances of the model, references
 * t.c resolve to the body's output expression, and the body's WHERE joins
 * conj[] (inner or preserved side) or, on the null-supplying side of an
 * outer join (a single-table body only), that join's ON: A LEFT JOIN
 * (SELECT .. FROM B WHERE p) t ON c == A LEFT JOIN B ON c AND p. A column of
 * a null-supplying derived table whose expression is not NULL whenever its
 * table is NULL-padded (a constant, COALESCE, CASE ...) is refused where it
 * is referenced: the padding does not commute with it.
 *
 * A derived table refused merging for GROUP BY, HAVING or DISTINCT becomes
 * an opaque instance (rw_tab.opaque): its body gets its own model (built
 * recursively over the same snapshot; a body outside the model, correlated,
 * non-deterministic, with LIMIT/OFFSET, window functions or an output that
 * is neither grouped nor aggregated refuses the block), its columns are the
 * body's outputs (a plain column keeps its schema type, anything else has
 * no range type), and its key is a hash of the body's canonical signature,
 * so view matching maps it only onto a structurally identical body (the
 * full signature is compared too). Such an instance is never joined back
 * nor eliminated (rw_join.c); the privilege guard covers its body.
 */
struct rw_model *rw_model_build(const struct rw_parse *p, const PgQuery__SelectStmt *s,
                                const char *db, const struct cat_snapshot *snap, char **err);

/* Free M (NULL ignored). */
void rw_model_free(struct rw_model *m);

/* Domain of a MariaDB DATA_TYPE (lower case). */
enum rw_rtype rw_rtype_of(const char *data_type);

/* Deep copy of the N keys at SRC (NULL when N is 0 or on OOM; *OK false on OOM). */
struct cat_key *rw_keys_dup(const struct cat_key *src, size_t n, bool *ok);

/* Free N keys at K (rw_keys_dup copies). */
void rw_keys_free(struct cat_key *k, size_t n);

/*
 * (rw_select.c) Is window function W (RW_E_WIN, over M's instances) deterministic in M:
 * its value does not depend on how the backend orders rows that tie on the
 * window's PARTITION BY and ORDER BY? RANK, DENSE_RANK, PERCENT_RANK,
 * CUME_DIST and aggregates over a RANGE frame (the default) or the whole
 * partition always are; ROW_NUMBER, NTILE, LAG, LEAD, FIRST/LAST/NTH_VALUE
 * and aggregates over a ROWS frame are when the PARTITION BY and ORDER BY
 * columns (equivalence classes count; a column fixed to one value by a
 * range too) cover a declared unique key of NOT NULL columns of every table
 * instance, so that no two rows tie. M's predicate analysis must be built.
 */
bool rw_win_deterministic(const struct rw_model *m, const struct rw_expr *w);

/* Schema column COL of table instance TAB of M, or NULL. */
const struct rw_mcol *rw_model_col(const struct rw_model *m, int tab, const char *col);

/* The model's predicate analysis and outer joins (their own modules). */
#include "rw_outer.h"
#include "rw_pred.h"

#endif /* RW_MODEL_H */
