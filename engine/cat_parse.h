/*
 * cat_parse.h - the parser of the proxy's admin SQL (SPEC §3): statement
 * text or its tokens (rewriter/rw_lex.h) -> struct cat_stmt. Also the
 * informational-constraint property syntax. What a statement means is
 * cat_admin.c's business.
 */
#ifndef CAT_PARSE_H
#define CAT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat.h"
#include "cat_refresh_clause.h"
#include "cat_reply.h"
#include "rw_lex.h"

enum cat_stmt_kind {
    CAT_ST_CREATE = 1,              /* CREATE MATERIALIZED VIEW */
    CAT_ST_REFRESH,                 /* REFRESH MATERIALIZED VIEW */
    CAT_ST_ALTER_RENAME,            /* ALTER MATERIALIZED VIEW mv RENAME new */
    CAT_ST_ALTER_REFRESH,           /* ALTER MATERIALIZED VIEW mv REFRESH <clause> */
    CAT_ST_ALTER_SET,               /* ALTER MATERIALIZED VIEW mv SET ("k" = "v") */
    CAT_ST_DROP,                    /* DROP MATERIALIZED VIEW */
    CAT_ST_PAUSE,                   /* PAUSE MATERIALIZED VIEW JOB ON mv */
    CAT_ST_RESUME,                  /* RESUME MATERIALIZED VIEW JOB ON mv */
    CAT_ST_CANCEL,                  /* CANCEL MATERIALIZED VIEW TASK id ON mv */
    CAT_ST_SHOW_MVS,                /* SHOW MATERIALIZED VIEWS */
    CAT_ST_SHOW_CREATE,             /* SHOW CREATE MATERIALIZED VIEW */
    CAT_ST_SHOW_PARTITIONS,         /* SHOW PARTITIONS FROM mv */
    CAT_ST_SELECT_TF,               /* SELECT ... FROM mv_infos(...) / tasks(...) */
    CAT_ST_EXPLAIN_REWRITE,         /* EXPLAIN REWRITE <select> */
    CAT_ST_ADD_CONSTRAINT,          /* ALTER TABLE t ADD CONSTRAINT c ... NOT ENFORCED */
    CAT_ST_DROP_CONSTRAINT,         /* ALTER TABLE t DROP CONSTRAINT c (informational only) */
    CAT_ST_SET_CONSTRAINTS,         /* ALTER TABLE t SET ("unique_constraints" = ...) (StarRocks) */
    CAT_ST_SHOW_CONSTRAINTS,        /* SHOW CONSTRAINTS FROM t */
    CAT_ST_ALTER_INDEX,             /* ALTER MATERIALIZED VIEW mv {ADD INDEX i (c, ...) | DROP INDEX i} */
};

/* One informational constraint as written (ADD CONSTRAINT, or one entry of
 * a StarRocks property); strings owned. */
struct cat_con_spec {
    enum cat_con_type type;         /* PRIMARY KEY / UNIQUE / FOREIGN KEY */
    char *name;                     /* as written, or generated for StarRocks properties */
    size_t n_cols;                  /* constrained columns */
    char **cols;                    /* as written */
    char *ref_db;                   /* FOREIGN KEY: referenced table's qualifier or NULL */
    char *ref_name;                 /* FOREIGN KEY: referenced table, else NULL */
    size_t n_ref_cols;              /* FOREIGN KEY: referenced columns */
    char **ref_cols;                /* as written */
};

/* Free what SPEC owns and zero it. */
void cat_con_spec_free(struct cat_con_spec *spec);

/*
 * Parse the StarRocks table properties "unique_constraints" (VALUE: keys
 * separated by ';', columns of one key by ',': "c1;c2,c3") or
 * "foreign_key_constraints" (FK true; "(c1, c2) REFERENCES [db.]t(c1, c2)
 * [; ...]") into OUT / N (appended; caller frees each with
 * cat_con_spec_free and the array). Generated names: "uk_<k>" / "fk_<k>",
 * K counting from 1 in the order written. An empty VALUE gives no
 * constraint. Returns 0, or -1 with ERR (1231/42000 naming the property and
 * the bad text); OUT / N then hold what was parsed so far.
 */
int cat_con_parse_prop(const char *value, bool fk, struct cat_con_spec **out, size_t *n,
                       struct mvp_reply *err);

/* enum cat_refresh_method, enum cat_refresh_trigger, struct cat_refresh_clause,
 * cat_refresh_text: cat_refresh_clause.h (catalog) */

/* One PROPERTIES / SET entry. */
struct cat_prop {
    char *key;                      /* lower-cased key */
    char *value;                    /* value as written (unquoted) */
};

/* Which table function a CAT_ST_SELECT_TF statement reads. */
enum cat_tf_kind {
    CAT_TF_MV_INFOS = 1,            /* mv_infos('database' = 'db') */
    CAT_TF_TASKS,                   /* tasks('type' = 'mv') */
};

/* A parsed admin statement; strings owned; free with cat_stmt_free(). */
struct cat_stmt {
    enum cat_stmt_kind kind;        /* statement */
    char *sql;                      /* the statement text (copy) */
    size_t len;                     /* its length */
    bool if_exists;                 /* DROP ... IF EXISTS */
    bool if_not_exists;             /* CREATE ... IF NOT EXISTS */
    char *db;                       /* qualifier of the view name, or NULL */
    char *name;                     /* view name */
    char *new_name;                 /* ALTER ... RENAME target */
    char *new_db;                   /* ALTER ... RENAME target's qualifier or NULL */
    size_t n_cols;                  /* CREATE column list */
    char **col_names;               /* n_cols names */
    char **col_comments;            /* n_cols comments (NULL when none) */
    int build;                      /* 0 not given, 1 IMMEDIATE, 2 DEFERRED */
    bool has_refresh;               /* a refresh clause was given */
    struct cat_refresh_clause refresh; /* CREATE / ALTER refresh clause */
    char *partition_by;             /* PARTITION BY text or NULL */
    bool distributed;               /* DISTRIBUTED BY given (ignored) */
    bool with_options;              /* WITH (...) given (ignored) */
    char *comment;                  /* COMMENT '...' or NULL */
    int rewrite;                    /* -1 not given, 0 DISABLE, 1 ENABLE QUERY REWRITE */
    size_t n_props;                 /* PROPERTIES / SET entries */
    struct cat_prop *props;         /* n_props entries */
    size_t query_off;               /* CREATE AS <select> / EXPLAIN REWRITE <select>: offset */
    size_t query_len;               /* ... and length (trailing ';' and blanks excluded) */
    enum cat_refresh_method refresh_mode; /* REFRESH MATERIALIZED VIEW mode */
    size_t n_parts;                 /* REFRESH ... PARTITIONS (...) */
    char **parts;                   /* partition names */
    uint64_t task_id;               /* CANCEL ... TASK id */
    char *show_db;                  /* SHOW ... FROM db */
    char *like;                     /* SHOW ... LIKE 'pattern' */
    enum cat_tf_kind tf;            /* SELECT_TF: which function */
    size_t tf_off;                  /* SELECT_TF: offset of the function name */
    size_t tf_end;                  /* SELECT_TF: offset after its closing ')' */
    char *tf_database;              /* mv_infos('database' = ...) or NULL */
    bool tf_star_only;              /* SELECT * FROM fn(...) [;] exactly */
    bool tf_alias;                  /* the function is followed by an alias */
    size_t n_cons;                  /* ADD / SET CONSTRAINTS: the constraints */
    struct cat_con_spec *cons;      /* n_cons entries (owned) */
    char *con_name;                 /* DROP CONSTRAINT: the name; ALTER_INDEX: the index */
    bool index_drop;                /* ALTER_INDEX: DROP INDEX (else ADD INDEX con_name (parts)) */
    bool set_unique;                /* SET: "unique_constraints" given (replaces PK/UNIQUE) */
    bool set_foreign;               /* SET: "foreign_key_constraints" given (replaces FKs) */
    size_t n_indexes;               /* CREATE: KEY (cols) / INDEX name (cols) clauses */
    struct cat_mv_index *indexes;   /* n_indexes, as written (KEY named "mvp_key"; owned) */
};

/*
 * Parse LEN bytes of SQL as an admin statement into ST (zeroed by the
 * caller; free with cat_stmt_free even on failure). Returns 1 when it is an
 * admin statement and parsed, 0 when it is not an admin statement (relay),
 * -1 when it is one but malformed or has bad PROPERTIES: ERR is filled
 * (1064/42000 with the 1-based byte position, 1911 unknown property,
 * 1231/42000 bad value). SPEC §3.
 */
int cat_parse(const char *sql, size_t len, struct cat_stmt *st, struct mvp_reply *err);

/*
 * cat_parse over tokens the caller already has: TOK (N tokens plus the
 * closing RW_TOK_EOF, as rw_lex_all returns them for the same LEN bytes at
 * SQL, hint tokens included; borrowed, not changed) instead of lexing SQL
 * again. Same results and errors as cat_parse. Used by the query path,
 * which lexes each statement once (proxy/px_stmt.h).
 */
int cat_parse_toks(const char *sql, size_t len, const struct rw_tok *tok, size_t n,
                   struct cat_stmt *st, struct mvp_reply *err);

/* Free what ST owns and zero it (NULL is ignored). */
void cat_stmt_free(struct cat_stmt *st);

/*
 * Read canonical text TEXT (cat_refresh_text; a stored refresh_info) back
 * into OUT (zeroed first; free with cat_refresh_clause_free), with the
 * clause parser of CREATE / ALTER. Returns 0, or -1 with a reason in ERR
 * (ERRLEN bytes) and OUT all defaults (AUTO ON MANUAL).
 */
int cat_refresh_clause_of_text(const char *text, struct cat_refresh_clause *out, char *err,
                               size_t errlen);

/* Validating PROPERTIES: cat_props.h. */

#endif /* CAT_PARSE_H */
