/*
 * cat_constraint.c - informational constraints: PRIMARY KEY, UNIQUE and
 * FOREIGN KEY declarations that the proxy trusts for join elimination but
 * nobody enforces (Doris `ALTER TABLE t ADD CONSTRAINT ...`, StarRocks
 * "unique_constraints" / "foreign_key_constraints", the SQL-standard NOT
 * ENFORCED of Snowflake / BigQuery / Flink).
 *
 *   ALTER TABLE t ADD CONSTRAINT c ... NOT ENFORCED ─┐ validate (client's connection:
 *   ALTER TABLE t SET ("unique_constraints" = ...) ──┤ table, columns, ALTER privilege,
 *   ALTER TABLE t DROP CONSTRAINT c ─────────────────┘ referenced unique key)
 *        └─> <meta>.constraints (service account) ─> publish: cat_icons_load() fills
 *            snapshot.icons, cat_keys_load() → cat_icons_merge() appends them to the
 *            tables' ukeys / fkeys (cat_key.informational) → view models rebuilt,
 *            catalog version bumped (cached rewrite decisions dropped)
 *   SHOW CONSTRAINTS FROM t: the backend's keys (ENFORCED) + the informational ones
 *
 * Trust contract: the data is never checked. If it violates a declared
 * constraint, a rewrite that eliminated a join on it can return other rows
 * than the original query (README, "Informational constraints").
 */
#include <mysql.h>

#include "cat.h"
#include "cat_admin.h"
#include "cat_constraint.h"
#include "cat_core.h"
#include "cat_parse.h"
#include "cat_reply.h"
#include "cat_util.h"
#include "cat_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const con_type_text[] = {"", "PRIMARY KEY", "UNIQUE", "FOREIGN KEY"};

/* ---- snapshot side -------------------------------------------------------------------- */

/* Deep copy of key SRC into *DST. */
static void
key_copy(struct cat_key *dst, const struct cat_key *src)
{
    size_t i;
    memset(dst, 0, sizeof(*dst));
    dst->n_cols = src->n_cols;
    dst->cols = cat_xcalloc(src->n_cols ? src->n_cols : 1, sizeof(char *));
    for (i = 0; i < src->n_cols; i++) {
        dst->cols[i] = cat_xstrdup(src->cols[i]);
    }
    if (src->ref_key != NULL) {
        dst->ref_key = cat_xstrdup(src->ref_key);
        dst->ref_cols = cat_xcalloc(src->n_cols ? src->n_cols : 1, sizeof(char *));
        for (i = 0; i < src->n_cols; i++) {
            dst->ref_cols[i] = cat_xstrdup(src->ref_cols[i]);
        }
    }
    dst->informational = src->informational;
    dst->name = cat_xstrdup(src->name);
}

/* Has table T a column named COL (lower case)? */
static bool
table_has_col(const struct cat_table *t, const char *col)
{
    size_t i;
    for (i = 0; i < t->n_cols; i++) {
        if (cat_streq_ci(t->cols[i].name, col)) {
            return true;
        }
    }
    return false;
}

void
cat_icons_merge(struct cat_snapshot *snap)
{
    size_t i, j;
    for (i = 0; i < snap->n_icons; i++) {
        const struct cat_icon *ic = &snap->icons[i];
        struct cat_table *t = NULL;
        struct cat_key **keys;
        size_t *n;
        bool ok = true;
        HASH_FIND_STR(snap->tables, ic->table_key, t);
        if (t == NULL) {
            continue;
        }
        for (j = 0; j < ic->key.n_cols && ok; j++) {
            ok = table_has_col(t, ic->key.cols[j]);
        }
        if (!ok) {
            continue; /* a column was dropped or renamed since: the constraint is void */
        }
        keys = ic->type == CAT_CON_FOREIGN ? &t->fkeys : &t->ukeys;
        n = ic->type == CAT_CON_FOREIGN ? &t->n_fkeys : &t->n_ukeys;
        *keys = realloc(*keys, (*n + 1) * sizeof(**keys));
        if (*keys == NULL) {
            abort();
        }
        key_copy(&(*keys)[*n], &ic->key);
        (*n)++;
    }
}

const struct cat_icon *
cat_icon_find(const struct cat_snapshot *snap, const char *db, const char *table,
              const char *name)
{
    char key[512];
    size_t i;
    if (snap == NULL || db == NULL || table == NULL || name == NULL) {
        return NULL;
    }
    cat_make_key(key, sizeof(key), db, table);
    for (i = 0; i < snap->n_icons; i++) {
        if (strcmp(snap->icons[i].table_key, key) == 0 &&
            cat_streq_ci(snap->icons[i].name, name)) {
            return &snap->icons[i];
        }
    }
    return NULL;
}

/* ---- store ---------------------------------------------------------------------------- */

static void
meta_constraints(struct cat_buf *b)
{
    cat_buf_qname(b, cat_meta_schema(), "constraints");
}

int
cat_icons_store_init(MYSQL *c, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    int rc;
    cat_buf_puts(&q, "CREATE TABLE IF NOT EXISTS ");
    meta_constraints(&q);
    cat_buf_puts(&q, " (db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL,"
                     " name VARCHAR(64) NOT NULL, ctype VARCHAR(16) NOT NULL,"
                     " cols TEXT NOT NULL, ref_db VARCHAR(64) NULL, ref_tbl VARCHAR(64) NULL,"
                     " ref_cols TEXT NULL, created_ms BIGINT NOT NULL DEFAULT 0,"
                     " PRIMARY KEY (db, tbl, name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    rc = cat_q(c, q.p, err, errlen, NULL);
    cat_buf_free(&q);
    return rc;
}

/* JSON array of N strings V. */
static void
json_strv(struct cat_buf *b, char *const *v, size_t n)
{
    size_t i;
    cat_buf_puts(b, "[");
    for (i = 0; i < n; i++) {
        if (i > 0) {
            cat_buf_puts(b, ",");
        }
        cat_buf_json_str(b, v[i]);
    }
    cat_buf_puts(b, "]");
}

void
cat_icons_load(MYSQL *c, struct cat_snapshot *snap)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    cat_icons_free(snap->icons, snap->n_icons);
    snap->icons = NULL;
    snap->n_icons = 0;
    cat_buf_puts(&q, "SELECT db, tbl, name, ctype, cols, ref_db, ref_tbl, ref_cols FROM ");
    meta_constraints(&q);
    cat_buf_puts(&q, " ORDER BY db, tbl, created_ms, name");
    if (mysql_real_query(c, q.p, q.len) != 0 || (res = mysql_store_result(c)) == NULL) {
        cat_log(CAT_LOG_WARN, "reading informational constraints: %s", mysql_error(c));
        cat_buf_free(&q);
        return;
    }
    cat_buf_free(&q);
    while ((row = mysql_fetch_row(res)) != NULL) {
        struct cat_icon ic;
        char **cols = NULL, **refs = NULL;
        int nc, nr = 0, t;
        char key[512];
        memset(&ic, 0, sizeof(ic));
        for (t = CAT_CON_PRIMARY; t <= CAT_CON_FOREIGN; t++) {
            if (row[3] != NULL && strcmp(row[3], con_type_text[t]) == 0) {
                ic.type = (enum cat_con_type)t;
            }
        }
        nc = row[4] != NULL ? cat_json_parse_array(row[4], &cols) : -1;
        if (ic.type == CAT_CON_FOREIGN) {
            nr = row[5] && row[6] && row[7] ? cat_json_parse_array(row[7], &refs) : -1;
        }
        if (ic.type == 0 || nc <= 0 || (ic.type == CAT_CON_FOREIGN && nr != nc)) {
            cat_log(CAT_LOG_WARN, "ignoring malformed informational constraint %s on %s.%s",
                    row[2], row[0], row[1]);
            if (nc > 0) {
                cat_strv_free(cols, (size_t)nc);
            }
            if (nr > 0) {
                cat_strv_free(refs, (size_t)nr);
            }
            continue;
        }
        ic.table_key = cat_xstrdup(cat_make_key(key, sizeof(key), row[0], row[1]));
        ic.name = cat_xstrdup(row[2]);
        ic.key.n_cols = (size_t)nc;
        ic.key.cols = cols;
        ic.key.informational = true;
        ic.key.name = cat_xstrdup(row[2]);
        if (ic.type == CAT_CON_FOREIGN) {
            ic.key.ref_key = cat_xstrdup(cat_make_key(key, sizeof(key), row[5], row[6]));
            ic.key.ref_cols = refs;
        }
        snap->icons = realloc(snap->icons, (snap->n_icons + 1) * sizeof(*snap->icons));
        if (snap->icons == NULL) {
            abort();
        }
        snap->icons[snap->n_icons++] = ic;
    }
    mysql_free_result(res);
}

/* ---- admin statements ----------------------------------------------------------------- */

/* A unique key or foreign key of a table, as validation sees it. */
struct vkey {
    char *name;                     /* constraint name */
    enum cat_con_type type;         /* kind */
    size_t n;                       /* columns */
    char **cols;                    /* lower case */
    bool informational;             /* ours (NOT ENFORCED) */
    char *ref;                      /* FOREIGN KEY: "db.table" as the backend spells it */
    char **ref_cols;                /* FOREIGN KEY: n referenced columns */
};

/* What validation knows of one table. */
struct vtable {
    char *db;                       /* as the statement gave it */
    char *name;                     /* table name */
    size_t n_cols;                  /* columns (0: no such table / not visible) */
    char **cols;                    /* as declared */
    size_t n_keys;                  /* keys: real ones first */
    struct vkey *keys;              /* ... then informational ones */
};

static void
vtable_free(struct vtable *t)
{
    size_t i;
    free(t->db);
    free(t->name);
    cat_strv_free(t->cols, t->n_cols);
    for (i = 0; i < t->n_keys; i++) {
        free(t->keys[i].name);
        cat_strv_free(t->keys[i].cols, t->keys[i].n);
        free(t->keys[i].ref);
        if (t->keys[i].ref_cols != NULL) {
            cat_strv_free(t->keys[i].ref_cols, t->keys[i].n);
        }
    }
    free(t->keys);
    memset(t, 0, sizeof(*t));
}

static struct vkey *
vkey_add(struct vtable *t)
{
    struct vkey *k;
    t->keys = realloc(t->keys, (t->n_keys + 1) * sizeof(*t->keys));
    if (t->keys == NULL) {
        abort();
    }
    k = &t->keys[t->n_keys++];
    memset(k, 0, sizeof(*k));
    return k;
}

/* Split a comma list (GROUP_CONCAT of names) into *N lower-case strings. */
static char **
split_commas(const char *s, size_t *n)
{
    char **v = NULL;
    const char *p = s != NULL ? s : "";
    *n = 0;
    while (*p != '\0') {
        const char *e = strchr(p, '\x1f');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        char *x = cat_xstrndup(p, len), *l = cat_xstrdup_lower(x);
        free(x);
        x = l;
        v = realloc(v, (*n + 1) * sizeof(*v));
        if (v == NULL) {
            abort();
        }
        v[(*n)++] = x;
        p += len + (e != NULL);
    }
    return v;
}

/* Run SQL as the client into ROWS; -1 with REPLY set to the error. */
static int
client_rows(cat_exec_fn exec, void *ctx, const char *sql, struct mvp_reply *rows,
            struct mvp_reply *reply)
{
    mvp_reply_init(rows);
    if (exec(ctx, sql, rows) < 0 || rows->kind == MVP_REPLY_ERR) {
        if (rows->kind != MVP_REPLY_ERR) {
            mvp_reply_err(rows, 2013, "HY000", "Lost connection to the backend");
        }
        mvp_reply_clear(reply);
        *reply = *rows;
        mvp_reply_init(rows);
        return -1;
    }
    if (rows->kind != MVP_REPLY_ROWS) {
        mvp_reply_clear(rows);
        mvp_reply_err(reply, 1105, "HY000", "unexpected answer to an information_schema query");
        return -1;
    }
    return 0;
}

/*
 * Fill T (zeroed) for DB.NAME: its columns and real keys read with the
 * client's privileges, plus the informational constraints of SNAP.
 * Returns 0, or -1 with REPLY: 1146 when the table does not exist (or the
 * client cannot see it), or the backend's error.
 */
static int
vtable_load(struct vtable *t, const char *db, const char *name, const struct cat_snapshot *snap,
            cat_exec_fn exec, void *ctx, struct mvp_reply *reply)
{
    struct cat_buf q = {0};
    struct mvp_reply rows;
    size_t i, j;
    char key[512];
    t->db = cat_xstrdup(db);
    t->name = cat_xstrdup(name);
    cat_buf_puts(&q, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
    cat_buf_lit(&q, db);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, name);
    cat_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
    if (client_rows(exec, ctx, q.p, &rows, reply) < 0) {
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    if (rows.n_rows == 0) {
        mvp_reply_clear(&rows);
        mvp_reply_err(reply, 1146, "42S02", "Table '%s.%s' doesn't exist", db, name);
        return -1;
    }
    t->cols = cat_xcalloc(rows.n_rows, sizeof(char *));
    for (i = 0; i < rows.n_rows; i++) {
        t->cols[t->n_cols++] = cat_xstrdup(rows.rows[i][0] ? rows.rows[i][0] : "");
    }
    mvp_reply_clear(&rows);
    /* real keys: one row per constraint, columns in order (0x1f-separated). */
    /* KEY_COLUMN_USAGE alone, with constant TABLE_SCHEMA and TABLE_NAME: MariaDB
     * opens just this table. A join with TABLE_CONSTRAINTS made it scan every
     * database for the joined side, which crashed MariaDB 10.11.19 under
     * concurrent DDL (create_tmp_table_for_schema). A referenced table marks a
     * foreign key, the name PRIMARY the primary key, anything else is UNIQUE. */
    cat_buf_puts(&q, "SELECT CONSTRAINT_NAME, IF(MAX(REFERENCED_TABLE_NAME) IS NOT NULL, "
                     "'FOREIGN KEY', IF(CONSTRAINT_NAME = 'PRIMARY', 'PRIMARY KEY', 'UNIQUE')), "
                     "GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION SEPARATOR 0x1f), "
                     "MAX(CONCAT(REFERENCED_TABLE_SCHEMA, '.', REFERENCED_TABLE_NAME)), "
                     "GROUP_CONCAT(REFERENCED_COLUMN_NAME ORDER BY ORDINAL_POSITION "
                     "SEPARATOR 0x1f) "
                     "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ");
    cat_buf_lit(&q, db);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, name);
    cat_buf_puts(&q, " GROUP BY CONSTRAINT_NAME "
                     "ORDER BY MAX(REFERENCED_TABLE_NAME) IS NOT NULL, CONSTRAINT_NAME");
    if (client_rows(exec, ctx, q.p, &rows, reply) < 0) {
        cat_buf_free(&q);
        return -1;
    }
    cat_buf_free(&q);
    for (i = 0; i < rows.n_rows; i++) {
        char **r = rows.rows[i];
        struct vkey *k;
        if (r[0] == NULL || r[1] == NULL || r[2] == NULL) {
            continue;
        }
        k = vkey_add(t);
        k->name = cat_xstrdup(r[0]);
        k->type = strcmp(r[1], "PRIMARY KEY") == 0 ? CAT_CON_PRIMARY
                  : strcmp(r[1], "UNIQUE") == 0    ? CAT_CON_UNIQUE
                                                   : CAT_CON_FOREIGN;
        k->cols = split_commas(r[2], &k->n);
        if (k->type == CAT_CON_FOREIGN) {
            size_t nr = 0;
            k->ref = cat_xstrdup(r[3] ? r[3] : "");
            k->ref_cols = split_commas(r[4], &nr);
            if (nr != k->n) {
                cat_strv_free(k->ref_cols, nr);
                k->ref_cols = NULL; /* not usable as a foreign key */
            }
        }
    }
    mvp_reply_clear(&rows);
    /* informational ones */
    cat_make_key(key, sizeof(key), db, name);
    for (i = 0; snap != NULL && i < snap->n_icons; i++) {
        const struct cat_icon *ic = &snap->icons[i];
        struct vkey *k;
        if (strcmp(ic->table_key, key) != 0) {
            continue;
        }
        k = vkey_add(t);
        k->name = cat_xstrdup(ic->name);
        k->type = ic->type;
        k->informational = true;
        k->n = ic->key.n_cols;
        k->cols = cat_xcalloc(k->n ? k->n : 1, sizeof(char *));
        for (j = 0; j < k->n; j++) {
            k->cols[j] = cat_xstrdup(ic->key.cols[j]);
        }
        if (ic->type == CAT_CON_FOREIGN) {
            k->ref = cat_xstrdup(ic->key.ref_key);
            k->ref_cols = cat_xcalloc(k->n ? k->n : 1, sizeof(char *));
            for (j = 0; j < k->n; j++) {
                k->ref_cols[j] = cat_xstrdup(ic->key.ref_cols[j]);
            }
        }
    }
    return 0;
}

/* Index of column COL (case-insensitive) in T, or -1. */
static int
vtable_col(const struct vtable *t, const char *col)
{
    size_t i;
    for (i = 0; i < t->n_cols; i++) {
        if (cat_streq_ci(t->cols[i], col)) {
            return (int)i;
        }
    }
    return -1;
}

/* Does some PRIMARY KEY / UNIQUE of T lie within the N columns COLS? */
static bool
unique_within(const struct vtable *t, char *const *cols, size_t n)
{
    size_t i, j, k;
    for (i = 0; i < t->n_keys; i++) {
        const struct vkey *u = &t->keys[i];
        bool all = u->type != CAT_CON_FOREIGN && u->n > 0;
        for (j = 0; j < u->n && all; j++) {
            bool f = false;
            for (k = 0; k < n && !f; k++) {
                f = cat_streq_ci(u->cols[j], cols[k]);
            }
            all = f;
        }
        if (all) {
            return true;
        }
    }
    return false;
}

/*
 * Check that the client may ALTER DB.NAME (cat_priv.c: global, database
 * (wildcards included), table grants of its user and its roles): declaring
 * a constraint changes the answers of every user. Returns 0, or -1 with
 * REPLY (1142).
 */
static int
check_alter_priv(const char *db, const char *name, cat_exec_fn exec, void *ctx,
                 struct mvp_reply *reply)
{
    return cat_priv_require(NULL, exec, ctx, db, name, CAT_PRIV_ALTER, "ALTER", reply);
}

/* Append "(a, b)" of N names V. */
static void
col_list(struct cat_buf *b, char *const *v, size_t n)
{
    size_t i;
    cat_buf_puts(b, "(");
    for (i = 0; i < n; i++) {
        cat_buf_puts(b, i > 0 ? ", " : "");
        cat_buf_puts(b, v[i]);
    }
    cat_buf_puts(b, ")");
}

/*
 * Validate constraint C (its name filled in when missing) of table T,
 * whose other informational constraints of the replaced kinds are ignored
 * (REPLACE_UNIQUE / REPLACE_FOREIGN, StarRocks SET). PENDING/N_PENDING:
 * the statement's constraints already validated (a FOREIGN KEY may
 * reference a unique key declared by the same SET). Returns 0 or -1 with
 * REPLY.
 */
static int
validate(struct cat_con_spec *c, const struct vtable *t, const struct cat_snapshot *snap,
         bool replace_unique, bool replace_foreign, const struct cat_con_spec *pending,
         size_t n_pending, cat_exec_fn exec, void *ctx, struct mvp_reply *reply)
{
    size_t i, j;
    for (i = 0; i < c->n_cols; i++) {
        if (vtable_col(t, c->cols[i]) < 0) {
            mvp_reply_err(reply, 1054, "42S22", "Unknown column '%s' in '%s.%s'", c->cols[i],
                          t->db, t->name);
            return -1;
        }
        for (j = 0; j < i; j++) {
            if (cat_streq_ci(c->cols[i], c->cols[j])) {
                mvp_reply_err(reply, 1060, "42S21", "Duplicate column name '%s'", c->cols[i]);
                return -1;
            }
        }
    }
    if (c->name == NULL) {
        struct cat_buf b = {0};
        if (c->type == CAT_CON_PRIMARY) {
            cat_buf_puts(&b, "PRIMARY");
        } else {
            cat_buf_printf(&b, "%s_%s", c->type == CAT_CON_FOREIGN ? "fk" : "uk", c->cols[0]);
        }
        c->name = cat_buf_take(&b);
    }
    for (i = 0; i < t->n_keys; i++) {
        const struct vkey *k = &t->keys[i];
        bool replaced = k->informational &&
                        (k->type == CAT_CON_FOREIGN ? replace_foreign : replace_unique);
        if (replaced) {
            continue;
        }
        if (cat_streq_ci(k->name, c->name)) {
            mvp_reply_err(reply, 1826, "HY000", "Duplicate constraint name '%s' on '%s.%s'",
                          c->name, t->db, t->name);
            return -1;
        }
        if (c->type == CAT_CON_PRIMARY && k->type == CAT_CON_PRIMARY) {
            mvp_reply_err(reply, 1068, "42000", "Multiple primary key defined");
            return -1;
        }
    }
    for (i = 0; i < n_pending; i++) {
        if (cat_streq_ci(pending[i].name, c->name)) {
            mvp_reply_err(reply, 1826, "HY000", "Duplicate constraint name '%s' on '%s.%s'",
                          c->name, t->db, t->name);
            return -1;
        }
    }
    if (c->type == CAT_CON_FOREIGN) {
        struct vtable rt;
        const char *rdb = c->ref_db != NULL ? c->ref_db : t->db;
        bool same = cat_streq_ci(rdb, t->db) && cat_streq_ci(c->ref_name, t->name), ok;
        if (c->n_ref_cols != c->n_cols) {
            mvp_reply_err(reply, 1239, "42000",
                          "Incorrect foreign key definition for '%s': Key reference and table "
                          "reference don't match", c->name);
            return -1;
        }
        memset(&rt, 0, sizeof(rt));
        if (vtable_load(&rt, rdb, c->ref_name, snap, exec, ctx, reply) < 0) {
            vtable_free(&rt);
            return -1;
        }
        for (i = 0; i < c->n_ref_cols; i++) {
            if (vtable_col(&rt, c->ref_cols[i]) < 0) {
                mvp_reply_err(reply, 1054, "42S22", "Unknown column '%s' in '%s.%s'",
                              c->ref_cols[i], rt.db, rt.name);
                vtable_free(&rt);
                return -1;
            }
        }
        ok = unique_within(&rt, c->ref_cols, c->n_ref_cols);
        for (i = 0; i < n_pending && !ok && same; i++) {
            struct vtable one;
            struct vkey k;
            if (pending[i].type == CAT_CON_FOREIGN) {
                continue;
            }
            memset(&one, 0, sizeof(one));
            memset(&k, 0, sizeof(k));
            k.type = pending[i].type;
            k.n = pending[i].n_cols;
            k.cols = pending[i].cols;
            k.name = pending[i].name;
            one.n_keys = 1;
            one.keys = &k;
            ok = unique_within(&one, c->ref_cols, c->n_ref_cols);
        }
        if (!ok) {
            struct cat_buf b = {0};
            col_list(&b, c->ref_cols, c->n_ref_cols);
            mvp_reply_err(reply, 1822, "HY000",
                          "Failed to add the foreign key constraint '%s': the referenced columns "
                          "%s of '%s.%s' hold no PRIMARY KEY or UNIQUE constraint (declare one, "
                          "enforced or NOT ENFORCED, first)", c->name, b.p, rt.db, rt.name);
            cat_buf_free(&b);
            vtable_free(&rt);
            return -1;
        }
        vtable_free(&rt);
    }
    return 0;
}

/* Append the INSERT values "(...)" of constraint C of table DB.NAME. */
static void
insert_values(struct cat_buf *q, const struct cat_con_spec *c, const char *db, const char *name,
              int64_t now)
{
    char **cols = cat_xcalloc(c->n_cols ? c->n_cols : 1, sizeof(char *));
    size_t i;
    for (i = 0; i < c->n_cols; i++) {
        cols[i] = cat_xstrdup_lower(c->cols[i]);
    }
    cat_buf_puts(q, "(");
    {
        char *l = cat_xstrdup_lower(db);
        cat_buf_lit(q, l);
        free(l);
        l = cat_xstrdup_lower(name);
        cat_buf_puts(q, ",");
        cat_buf_lit(q, l);
        free(l);
    }
    cat_buf_puts(q, ",");
    cat_buf_lit(q, c->name);
    cat_buf_puts(q, ",");
    cat_buf_lit(q, con_type_text[c->type]);
    cat_buf_puts(q, ",");
    {
        struct cat_buf j = {0};
        json_strv(&j, cols, c->n_cols);
        cat_buf_lit(q, j.p);
        cat_buf_free(&j);
    }
    if (c->type == CAT_CON_FOREIGN) {
        struct cat_buf j = {0};
        char **refs = cat_xcalloc(c->n_ref_cols ? c->n_ref_cols : 1, sizeof(char *));
        char *l = cat_xstrdup_lower(c->ref_db != NULL ? c->ref_db : db);
        for (i = 0; i < c->n_ref_cols; i++) {
            refs[i] = cat_xstrdup_lower(c->ref_cols[i]);
        }
        cat_buf_puts(q, ",");
        cat_buf_lit(q, l);
        free(l);
        l = cat_xstrdup_lower(c->ref_name);
        cat_buf_puts(q, ",");
        cat_buf_lit(q, l);
        free(l);
        json_strv(&j, refs, c->n_ref_cols);
        cat_buf_puts(q, ",");
        cat_buf_lit(q, j.p);
        cat_buf_free(&j);
        cat_strv_free(refs, c->n_ref_cols);
    } else {
        cat_buf_puts(q, ",NULL,NULL,NULL");
    }
    cat_buf_printf(q, ",%lld)", (long long)now);
    cat_strv_free(cols, c->n_cols);
}

/*
 * Apply ST to the store over a new service connection and publish the
 * catalog again (snapshot icons and keys reloaded, view models rebuilt,
 * version bumped). Caller validated. Returns 0 or -1 with REPLY.
 */
static int
store_apply(const struct cat_stmt *st, const char *db, struct mvp_reply *reply)
{
    struct cat_buf q = {0};
    char err[512];
    MYSQL *c = cat_connect(err, sizeof(err));
    char *ldb = cat_xstrdup_lower(db), *ltb = cat_xstrdup_lower(st->name);
    int rc = -1;
    unsigned code = 0;
    size_t i;
    if (c == NULL) {
        mvp_reply_err(reply, 2003, "HY000", "changing the catalog: %s", err);
        free(ldb);
        free(ltb);
        return -1;
    }
    cat_writer_lock();
    if (cat_q(c, "START TRANSACTION", err, sizeof(err), NULL) < 0) {
        goto fail;
    }
    if (st->kind == CAT_ST_DROP_CONSTRAINT || st->kind == CAT_ST_SET_CONSTRAINTS) {
        cat_buf_puts(&q, "DELETE FROM ");
        meta_constraints(&q);
        cat_buf_puts(&q, " WHERE db = ");
        cat_buf_lit(&q, ldb);
        cat_buf_puts(&q, " AND tbl = ");
        cat_buf_lit(&q, ltb);
        if (st->kind == CAT_ST_DROP_CONSTRAINT) {
            cat_buf_puts(&q, " AND name = ");
            cat_buf_lit(&q, st->con_name);
        } else {
            cat_buf_printf(&q, " AND ctype IN (%s%s%s)",
                           st->set_unique ? "'PRIMARY KEY','UNIQUE'" : "",
                           st->set_unique && st->set_foreign ? "," : "",
                           st->set_foreign ? "'FOREIGN KEY'" : "");
        }
        if (cat_q(c, q.p, err, sizeof(err), NULL) < 0) {
            goto fail;
        }
        if (st->kind == CAT_ST_DROP_CONSTRAINT && mysql_affected_rows(c) == 0) {
            cat_q(c, "ROLLBACK", err, sizeof(err), NULL);
            mvp_reply_err(reply, 1091, "42000", "Can't DROP CONSTRAINT `%s`; check that it exists",
                          st->con_name);
            goto out;
        }
        cat_buf_free(&q);
    }
    if (st->n_cons > 0) {
        int64_t now = cat_now_ms();
        cat_buf_puts(&q, "INSERT INTO ");
        meta_constraints(&q);
        cat_buf_puts(&q, " (db, tbl, name, ctype, cols, ref_db, ref_tbl, ref_cols, created_ms) "
                         "VALUES ");
        for (i = 0; i < st->n_cons; i++) {
            cat_buf_puts(&q, i > 0 ? "," : "");
            insert_values(&q, &st->cons[i], db, st->name, now);
        }
        if (cat_q(c, q.p, err, sizeof(err), &code) < 0) {
            cat_q(c, "ROLLBACK", err + 256, sizeof(err) - 256, NULL);
            if (code == 1062) {
                mvp_reply_err(reply, 1826, "HY000", "Duplicate constraint name on '%s.%s'", db,
                              st->name);
                goto out;
            }
            goto fail;
        }
    }
    if (cat_q(c, "COMMIT", err, sizeof(err), NULL) < 0) {
        goto fail;
    }
    if (cat_publish_mvs(c, cat_current_mvs(), err, sizeof(err)) < 0) {
        mvp_reply_err(reply, 1105, "HY000", "publishing the catalog: %s", err);
        goto out;
    }
    mvp_reply_ok(reply, 0, NULL);
    rc = 0;
    goto out;
fail:
    mvp_reply_err(reply, 1105, "HY000", "updating the catalog: %s", err);
out:
    cat_writer_unlock();
    cat_buf_free(&q);
    mysql_close(c);
    free(ldb);
    free(ltb);
    return rc;
}

/* SHOW CONSTRAINTS FROM T: Name, Type, Definition, Enforced. */
static void
show(const struct vtable *t, struct mvp_reply *reply)
{
    static const char *const cols[] = {"Name", "Type", "Definition", "Enforced"};
    size_t i;
    mvp_reply_rows(reply, 4, cols, NULL);
    for (i = 0; i < t->n_keys; i++) {
        const struct vkey *k = &t->keys[i];
        struct cat_buf d = {0};
        const char *v[4];
        cat_buf_puts(&d, con_type_text[k->type]);
        cat_buf_puts(&d, " ");
        col_list(&d, k->cols, k->n);
        if (k->type == CAT_CON_FOREIGN) {
            cat_buf_printf(&d, " REFERENCES %s ", k->ref ? k->ref : "?");
            if (k->ref_cols != NULL) {
                col_list(&d, k->ref_cols, k->n);
            }
        }
        if (k->informational) {
            cat_buf_puts(&d, " NOT ENFORCED");
        }
        v[0] = k->name;
        v[1] = con_type_text[k->type];
        v[2] = d.p;
        v[3] = k->informational ? "NOT ENFORCED" : "ENFORCED";
        mvp_reply_add_row(reply, v);
        cat_buf_free(&d);
    }
}

void
cat_constraint_run(struct cat_stmt *st, const char *db, cat_exec_fn exec, void *ctx,
                   struct mvp_reply *reply)
{
    const char *tdb = st->db != NULL ? st->db : db;
    struct cat_snapshot *snap;
    struct vtable t;
    size_t i;
    if (tdb == NULL || *tdb == '\0') {
        mvp_reply_err(reply, 1046, "3D000", "No database selected");
        return;
    }
    memset(&t, 0, sizeof(t));
    snap = cat_snapshot_acquire();
    if (vtable_load(&t, tdb, st->name, snap, exec, ctx, reply) < 0) {
        goto out;
    }
    if (st->kind == CAT_ST_SHOW_CONSTRAINTS) {
        show(&t, reply);
        goto out;
    }
    if (check_alter_priv(tdb, st->name, exec, ctx, reply) < 0) {
        goto out;
    }
    for (i = 0; i < st->n_cons; i++) {
        if (validate(&st->cons[i], &t, snap, st->set_unique, st->set_foreign, st->cons, i, exec,
                     ctx, reply) < 0) {
            goto out;
        }
    }
    cat_snapshot_release(snap);
    snap = NULL;
    (void)store_apply(st, tdb, reply);
out:
    cat_snapshot_release(snap);
    vtable_free(&t);
}
