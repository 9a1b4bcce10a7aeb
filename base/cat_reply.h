/*
 * cat_reply.h - a reply the proxy answers a client with itself: OK, ERR or a
 * small result set of text values. Built by the engine (admin SQL, SHOW,
 * EXPLAIN REWRITE) and the proxy's dispatch; encoded into MySQL
 * packets by proxy/px_mysql.c (OK_Packet, ERR_Packet, Text Resultset).
 */
#ifndef CAT_REPLY_H
#define CAT_REPLY_H

#include <stddef.h>
#include <stdint.h>

enum mvp_reply_kind {
    MVP_REPLY_OK = 0,   /* OK packet: affected_rows, info */
    MVP_REPLY_ERR,      /* ERR packet: err_code, sqlstate, err_msg */
    MVP_REPLY_ROWS,     /* text result set: cols, rows */
};

enum mvp_col_type {
    MVP_COL_STRING = 0, /* MYSQL_TYPE_VAR_STRING, utf8mb4 */
    MVP_COL_INT,        /* MYSQL_TYPE_LONGLONG, binary charset */
};

struct mvp_reply {
    enum mvp_reply_kind kind;       /* which packet(s) to send */
    uint64_t affected_rows;         /* OK: affected rows */
    char *info;                     /* OK: info text or NULL (owned) */
    uint16_t err_code;              /* ERR: MySQL error number, e.g. 1064 */
    char sqlstate[6];               /* ERR: 5-char SQLSTATE, NUL-terminated */
    char *err_msg;                  /* ERR: message (owned) */
    size_t n_cols;                  /* ROWS: number of columns */
    char **col_names;               /* ROWS: n_cols names (owned) */
    enum mvp_col_type *col_types;   /* ROWS: n_cols types (owned) */
    size_t n_rows;                  /* ROWS: number of rows */
    size_t cap_rows;                /* ROWS: allocated rows */
    char ***rows;                   /* ROWS: n_rows arrays of n_cols values; NULL value = SQL NULL */
};

/* Zero R. */
void mvp_reply_init(struct mvp_reply *r);
/* Free everything R owns and zero it; R itself is the caller's. */
void mvp_reply_clear(struct mvp_reply *r);
/* Make R an OK with AFFECTED rows and optional INFO (copied; may be NULL). */
void mvp_reply_ok(struct mvp_reply *r, uint64_t affected, const char *info);
/* Make R an ERR with CODE, SQLSTATE (5 chars) and a printf-style message. */
void mvp_reply_err(struct mvp_reply *r, uint16_t code, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Make R a result set with N column NAMES (copied) of TYPES (NULL = all strings). */
void mvp_reply_rows(struct mvp_reply *r, size_t n, const char *const *names,
                    const enum mvp_col_type *types);
/* Append a row of R->n_cols VALUES (copied; NULL entries are SQL NULL). */
void mvp_reply_add_row(struct mvp_reply *r, const char *const *values);

#endif /* CAT_REPLY_H */
