/*
 * cat_priv.c - the client's backend privileges for admin statements (SPEC
 * §3). SHOW GRANTS on the client's own connection lists exactly what the
 * backend grants it: its user's grants, its current role's and those of the
 * roles granted to that role (information_schema's *_PRIVILEGES tables show
 * a non-admin user none of its roles' grants, measured on MariaDB 10.11).
 * It reads the grant tables in memory and opens no table, so it is safe
 * under concurrent DDL. The lines are parsed here and checked locally:
 *
 *   GRANT <priv> [(cols)], ... ON {*.* | `db`.* | `db`.`t`} TO ...  -> struct cat_grant
 *   GRANT `role` TO ..., GRANT PROXY ..., ON PROCEDURE/FUNCTION ...  -> ignored
 *
 * A database-level grant's name is a pattern (`d\_%`), as the backend
 * matches it; table-level grants are exact.
 */
#include "cat_priv.h"
#include "cat.h"
#include "cat_admin.h"
#include "cat_reply.h"
#include "cat_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
cat_grant_free(struct cat_grant *g)
{
    if (g == NULL) {
        return;
    }
    free(g->db);
    free(g->table);
    memset(g, 0, sizeof(*g));
}

void
cat_privs_free(struct cat_privs *p)
{
    size_t i;
    if (p == NULL) {
        return;
    }
    for (i = 0; i < p->n; i++) {
        cat_grant_free(&p->g[i]);
    }
    free(p->g);
    free(p->user);
    free(p->host);
    memset(p, 0, sizeof(*p));
}

/* Does S start with word W (case-insensitive) followed by a non-letter? */
static bool
word_at(const char *s, const char *w)
{
    size_t n = strlen(w);
    return strncasecmp(s, w, n) == 0 && !isalpha((unsigned char)s[n]) && s[n] != '_';
}

/* The bits of one privilege name (N bytes at S, upper or lower case). */
static uint32_t
priv_bits(const char *s, size_t n)
{
    static const struct {
        const char *name;
        uint32_t bits;
    } map[] = {
        {"SELECT", CAT_PRIV_SELECT},     {"INSERT", CAT_PRIV_INSERT},
        {"UPDATE", CAT_PRIV_UPDATE},     {"DELETE", CAT_PRIV_DELETE},
        {"CREATE", CAT_PRIV_CREATE},     {"DROP", CAT_PRIV_DROP},
        {"ALTER", CAT_PRIV_ALTER},       {"INDEX", CAT_PRIV_INDEX},
        {"PROCESS", CAT_PRIV_PROCESS},   {"SUPER", CAT_PRIV_SUPER},
        {"ALL", CAT_PRIV_ALL},           {"ALL PRIVILEGES", CAT_PRIV_ALL},
        {"USAGE", 0},                    {"REFERENCES", CAT_PRIV_TABLE_OTHER},
        {"CREATE VIEW", CAT_PRIV_TABLE_OTHER}, {"SHOW VIEW", CAT_PRIV_TABLE_OTHER},
        {"TRIGGER", CAT_PRIV_TABLE_OTHER}, {"DELETE HISTORY", CAT_PRIV_TABLE_OTHER},
        {"DELETE VERSIONING ROWS", CAT_PRIV_TABLE_OTHER},
    };
    size_t i;
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strlen(map[i].name) == n && strncasecmp(map[i].name, s, n) == 0) {
            return map[i].bits;
        }
    }
    return n > 0 ? CAT_PRIV_OTHER : 0;
}

/* Read a `quoted` identifier (`` doubled inside) or a bare * at *S; advance. */
static char *
ident(const char **s, bool *star)
{
    const char *p = *s;
    struct cat_buf b = {0};
    *star = false;
    if (*p == '*') {
        *star = true;
        *s = p + 1;
        return NULL;
    }
    if (*p != '`') {
        /* unquoted (older servers): letters, digits, _ $ and the pattern's % \ */
        while (*p != '\0' && (isalnum((unsigned char)*p) || strchr("_$%\\", *p) != NULL)) {
            cat_buf_add(&b, p, 1);
            p++;
        }
        *s = p;
        return b.len > 0 ? cat_buf_take(&b) : NULL;
    }
    p++;
    for (;;) {
        if (*p == '\0') {
            cat_buf_free(&b);
            return NULL;
        }
        if (*p == '`') {
            if (p[1] == '`') {
                cat_buf_add(&b, "`", 1);
                p += 2;
                continue;
            }
            p++;
            break;
        }
        cat_buf_add(&b, p, 1);
        p++;
    }
    *s = p;
    if (b.len == 0) {
        cat_buf_puts(&b, "");
    }
    return cat_buf_take(&b);
}

int
cat_grant_parse(const char *line, struct cat_grant *g)
{
    const char *s = line, *item, *on = NULL;
    int depth = 0;
    bool quoted = false, star;
    char *a, *b;
    memset(g, 0, sizeof(*g));
    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (!word_at(s, "GRANT")) {
        return word_at(s, "SET") ? 0 : -1; /* SET DEFAULT ROLE ... */
    }
    s += 5;
    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (*s == '`' || *s == '\'') {
        return 0; /* GRANT `role` TO ...: the role's own lines follow */
    }
    /* the privilege list ends at ON outside parentheses and quotes */
    item = s;
    for (; *s != '\0'; s++) {
        if (*s == '`') {
            quoted = !quoted;
        } else if (!quoted && *s == '(') {
            depth++;
        } else if (!quoted && *s == ')') {
            depth--;
        } else if (!quoted && depth == 0 && s > item && isspace((unsigned char)s[-1]) &&
                   word_at(s, "ON")) {
            on = s;
            break;
        }
    }
    if (on == NULL) {
        return -1;
    }
    /* each item: name [(cols)] */
    s = item;
    while (s < on) {
        const char *e = s, *paren = NULL;
        depth = 0;
        quoted = false;
        for (; e < on; e++) {
            if (*e == '`') {
                quoted = !quoted;
            } else if (!quoted && *e == '(') {
                if (depth++ == 0 && paren == NULL) {
                    paren = e;
                }
            } else if (!quoted && *e == ')') {
                depth--;
            } else if (!quoted && depth == 0 && *e == ',') {
                break;
            }
        }
        if (paren != NULL) {
            g->columns = g->columns || priv_bits(s, (size_t)(paren - s)) != 0;
        } else {
            uint32_t bits = priv_bits(s, (size_t)(e - s));
            if (bits == CAT_PRIV_OTHER && word_at(s + strspn(s, " "), "PROXY")) {
                return 0;
            }
            g->privs |= bits;
        }
        s = e < on ? e + 1 : on;
    }
    s = on + 2;
    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (word_at(s, "PROCEDURE") || word_at(s, "FUNCTION") || word_at(s, "PACKAGE")) {
        return 0; /* routine grants give no table privilege */
    }
    a = ident(&s, &star);
    if (a == NULL && !star) {
        return -1;
    }
    if (*s != '.') {
        free(a);
        return -1;
    }
    s++;
    b = ident(&s, &star);
    if (b == NULL && !star) {
        free(a);
        return -1;
    }
    if (a == NULL && b != NULL) {
        free(b); /* *.t is not a grant shape */
        return -1;
    }
    g->db = a;
    g->table = b;
    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (!word_at(s, "TO")) {
        cat_grant_free(g);
        return -1;
    }
    if (strstr(s, " WITH GRANT OPTION") != NULL) {
        g->privs |= CAT_PRIV_TABLE_OTHER; /* GRANT_ACL is a table privilege */
    }
    return 1;
}

/* "Grants for u@h" -> user, host (split at the last '@'). */
static void
grantee(struct cat_privs *p, const char *col)
{
    const char *s = col, *at;
    if (strncasecmp(s, "Grants for ", 11) == 0) {
        s += 11;
    }
    at = strrchr(s, '@');
    if (at == NULL) {
        p->user = cat_xstrdup(s);
        p->host = cat_xstrdup("%");
        return;
    }
    p->user = cat_xstrndup(s, (size_t)(at - s));
    p->host = cat_xstrdup(at + 1);
}

int
cat_privs_load(cat_exec_fn exec, void *exec_ctx, struct cat_privs *p, struct mvp_reply *reply)
{
    struct mvp_reply r;
    size_t i;
    memset(p, 0, sizeof(*p));
    mvp_reply_init(&r);
    if (exec(exec_ctx, "SHOW GRANTS", &r) < 0 || r.kind != MVP_REPLY_ROWS) {
        if (r.kind != MVP_REPLY_ERR) {
            mvp_reply_clear(&r);
            mvp_reply_err(&r, 2013, "HY000", "Lost connection to the backend");
        }
        mvp_reply_clear(reply);
        *reply = r;
        return -1;
    }
    grantee(p, r.n_cols > 0 && r.col_names[0] != NULL ? r.col_names[0] : "");
    p->g = cat_xcalloc(r.n_rows + 1, sizeof(*p->g));
    for (i = 0; i < r.n_rows; i++) {
        const char *line = r.n_cols > 0 ? r.rows[i][0] : NULL;
        if (line != NULL && cat_grant_parse(line, &p->g[p->n]) == 1) {
            p->n++;
        }
    }
    mvp_reply_clear(&r);
    return 0;
}

bool
cat_priv_db_match(const char *pat, const char *s)
{
    if (pat == NULL || s == NULL) {
        return false;
    }
    for (;;) {
        if (*pat == '\0') {
            return *s == '\0';
        }
        if (*pat == '%') {
            while (*pat == '%') {
                pat++;
            }
            if (*pat == '\0') {
                return true;
            }
            for (; *s != '\0'; s++) {
                if (cat_priv_db_match(pat, s)) {
                    return true;
                }
            }
            return false;
        }
        if (*s == '\0') {
            return false;
        }
        if (*pat == '\\' && pat[1] != '\0') {
            pat++;
            if (*pat != *s) {
                return false;
            }
        } else if (*pat != '_' && *pat != *s) {
            return false;
        }
        pat++;
        s++;
    }
}

uint32_t
cat_privs_global(const struct cat_privs *p)
{
    uint32_t bits = 0;
    size_t i;
    for (i = 0; p != NULL && i < p->n; i++) {
        if (p->g[i].db == NULL) {
            bits |= p->g[i].privs;
        }
    }
    return bits;
}

uint32_t
cat_privs_on(const struct cat_privs *p, const char *db, const char *table)
{
    uint32_t bits = 0;
    size_t i;
    for (i = 0; p != NULL && i < p->n; i++) {
        const struct cat_grant *g = &p->g[i];
        if (g->db == NULL) {
            bits |= g->privs;
        } else if (g->table == NULL) {
            if (cat_priv_db_match(g->db, db)) {
                bits |= g->privs;
            }
        } else if (db != NULL && table != NULL && strcmp(g->db, db) == 0 &&
                   strcmp(g->table, table) == 0) {
            bits |= g->privs;
        }
    }
    return bits;
}

bool
cat_privs_visible(const struct cat_privs *p, const char *db, const char *table)
{
    size_t i;
    if ((cat_privs_on(p, db, table) & CAT_PRIV_TABLE_ACLS) != 0) {
        return true;
    }
    for (i = 0; p != NULL && i < p->n; i++) {
        const struct cat_grant *g = &p->g[i];
        if (g->columns && g->table != NULL && db != NULL && table != NULL &&
            strcmp(g->db, db) == 0 && strcmp(g->table, table) == 0) {
            return true;
        }
    }
    return false;
}

int
cat_priv_require(const struct cat_privs *p, cat_exec_fn exec, void *exec_ctx, const char *db,
                 const char *table, uint32_t need, const char *cmd, struct mvp_reply *reply)
{
    struct cat_privs own;
    struct mvp_reply r;
    char host[256];
    bool ok;
    const char *user;
    if (p == NULL) {
        if (cat_privs_load(exec, exec_ctx, &own, reply) < 0) {
            return -1;
        }
        p = &own;
    }
    ok = (cat_privs_on(p, db, table) & need) == need;
    if (ok) {
        if (p == &own) {
            cat_privs_free(&own);
        }
        return 0;
    }
    /* MariaDB names the connection's host (USER()), not the grant's */
    snprintf(host, sizeof(host), "%s", p->host != NULL ? p->host : "%");
    mvp_reply_init(&r);
    if (exec(exec_ctx, "SELECT SUBSTRING_INDEX(USER(), '@', -1)", &r) == 0 &&
        r.kind == MVP_REPLY_ROWS && r.n_rows == 1 && r.n_cols == 1 && r.rows[0][0] != NULL) {
        snprintf(host, sizeof(host), "%s", r.rows[0][0]);
    }
    mvp_reply_clear(&r);
    user = p->user != NULL ? p->user : "";
    mvp_reply_err(reply, 1142, "42000", "%s command denied to user '%s'@'%s' for table `%s`.`%s`",
                  cmd, user, host, db != NULL ? db : "", table != NULL ? table : "");
    if (p == &own) {
        cat_privs_free(&own);
    }
    return -1;
}
