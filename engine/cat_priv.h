/*
 * cat_priv.h - the client's backend privileges for admin statements
 * (SPEC §3): read once per statement with SHOW GRANTS on the client's own
 * connection (its user, its current role and every role granted to that
 * role, as MariaDB lists them), then checked locally for a table.
 */
#ifndef CAT_PRIV_H
#define CAT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cat_admin.h"
#include "cat_reply.h"

/* Privilege bits (one per privilege the admin statements ask for). */
#define CAT_PRIV_SELECT 0x001u
#define CAT_PRIV_INSERT 0x002u
#define CAT_PRIV_UPDATE 0x004u
#define CAT_PRIV_DELETE 0x008u
#define CAT_PRIV_CREATE 0x010u
#define CAT_PRIV_DROP 0x020u
#define CAT_PRIV_ALTER 0x040u
#define CAT_PRIV_INDEX 0x080u
#define CAT_PRIV_TABLE_OTHER 0x100u /* REFERENCES, CREATE VIEW, SHOW VIEW, TRIGGER, GRANT ... */
#define CAT_PRIV_PROCESS 0x200u
#define CAT_PRIV_SUPER 0x400u
#define CAT_PRIV_OTHER 0x800u       /* not a table privilege (LOCK TABLES, EXECUTE, ...) */
#define CAT_PRIV_TABLE_ACLS 0x1ffu  /* the ones that make a table visible (MariaDB TABLE_ACLS) */
#define CAT_PRIV_ALL 0xfffu         /* ALL PRIVILEGES */

/* One GRANT line of SHOW GRANTS on *.*, db.* or db.t; strings owned. */
struct cat_grant {
    char *db;                       /* NULL for *.*; a LIKE pattern (\ escapes) for db.* */
    char *table;                    /* NULL for *.* and db.* */
    uint32_t privs;                 /* CAT_PRIV_* granted on the whole object */
    bool columns;                   /* some privilege on some columns only (col list) */
};

/* The client's grants. */
struct cat_privs {
    char *user;                     /* CURRENT_USER()'s user part ("Grants for u@h") */
    char *host;                     /* CURRENT_USER()'s host part */
    size_t n;                       /* grants */
    struct cat_grant *g;            /* n grants */
};

/*
 * Parse one SHOW GRANTS line LINE into G (zeroed by the caller; strings
 * owned by G, free with cat_grant_free). Returns 1 for a privilege grant on
 * *.*, db.* or db.t; 0 for a line that grants no table privilege (a role
 * grant, PROXY, a routine grant, SET DEFAULT ROLE); -1 when LINE is not
 * understood (callers ignore it: a line not understood grants nothing).
 */
int cat_grant_parse(const char *line, struct cat_grant *g);

/* Free what G owns (NULL ignored). */
void cat_grant_free(struct cat_grant *g);

/*
 * Read the client's grants with SHOW GRANTS through EXEC/EXEC_CTX (the
 * client's own connection) into P (zeroed by the caller; free with
 * cat_privs_free). Returns 0, or -1 with REPLY holding the backend's error.
 */
int cat_privs_load(cat_exec_fn exec, void *exec_ctx, struct cat_privs *p,
                   struct mvp_reply *reply);

/* Free what P owns and zero it. */
void cat_privs_free(struct cat_privs *p);

/* Privileges P holds on table DB.TABLE (global | database, wildcards included | table). */
uint32_t cat_privs_on(const struct cat_privs *p, const char *db, const char *table);

/* Global privileges of P (GRANT ... ON *.*). */
uint32_t cat_privs_global(const struct cat_privs *p);

/* May P see table DB.TABLE (some table privilege on it, its database, *.*, or a column)? */
bool cat_privs_visible(const struct cat_privs *p, const char *db, const char *table);

/*
 * Check that the client holds NEED (CAT_PRIV_*, all of them) on DB.TABLE;
 * P may be NULL (then the grants are read through EXEC). CMD names the
 * command in the error ("ALTER"). Returns 0, or -1 with REPLY: ERR 1142
 * "<CMD> command denied to user 'u'@'h' for table `db`.`t`" as MariaDB
 * words it, or the backend's error.
 */
int cat_priv_require(const struct cat_privs *p, cat_exec_fn exec, void *exec_ctx,
                     const char *db, const char *table, uint32_t need, const char *cmd,
                     struct mvp_reply *reply);

/* Does SQL LIKE-style pattern PAT (% _ and \ escapes, case-sensitive) match S? */
bool cat_priv_db_match(const char *pat, const char *s);

#endif /* CAT_PRIV_H */
