/*
 * rw_tables.c - statement-level helpers the catalog uses before any view
 * model exists: rw_check_select (is this one SELECT?) and rw_tables_read
 * (which tables does it read?). Both parse through the dialect bridge and
 * walk the whole tree with protobuf-c reflection (subqueries in FROM,
 * WHERE, the select list, CTE bodies and UNION branches included).
 */
#include "rw.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rw_parse.h"
#include "rw_util.h"

/* Names collected while walking a tree. */
struct name_list {
    char **v;           /* strings (owned) */
    size_t n;           /* used */
    size_t cap;         /* allocated */
    bool oom;           /* an allocation failed */
};

/* Add S (consumed) to L unless an equal string is there. */
static void
list_add(struct name_list *l, char *s)
{
    size_t i;
    if (s == NULL) {
        l->oom = true;
        return;
    }
    for (i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], s) == 0) {
            free(s);
            return;
        }
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            free(s);
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
}

/* Free the strings and the array of L. */
static void
list_free(struct name_list *l)
{
    size_t i;
    for (i = 0; i < l->n; i++) {
        free(l->v[i]);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Walk state: CTE names first pass, RangeVars second pass. */
struct walk {
    bool want_ctes;             /* collect CommonTableExpr names instead of tables */
    const char *db;             /* current database or NULL */
    struct name_list *ctes;     /* CTE names, lower case */
    struct name_list *out;      /* tables, "db.table" lower case */
};

/* Visit MSG and every message below it (oneof: only the set member). */
static void
walk_msg(const ProtobufCMessage *msg, struct walk *w)
{
    const ProtobufCMessageDescriptor *d;
    unsigned i;
    if (msg == NULL) {
        return;
    }
    d = msg->descriptor;
    if (d == &pg_query__common_table_expr__descriptor && w->want_ctes) {
        const PgQuery__CommonTableExpr *c = (const PgQuery__CommonTableExpr *)msg;
        list_add(w->ctes, rw_lower(c->ctename));
    } else if (d == &pg_query__range_var__descriptor && !w->want_ctes) {
        const PgQuery__RangeVar *rv = (const PgQuery__RangeVar *)msg;
        bool is_cte = false;
        size_t k;
        if (rv->schemaname == NULL || rv->schemaname[0] == '\0') {
            for (k = 0; k < w->ctes->n; k++) {
                if (strcasecmp(w->ctes->v[k], rv->relname) == 0) {
                    is_cte = true;
                }
            }
        }
        if (!is_cte) {
            const char *db = (rv->schemaname != NULL && rv->schemaname[0] != '\0')
                                 ? rv->schemaname
                                 : (w->db != NULL ? w->db : "");
            char *k2 = rw_sprintf("%s.%s", db, rv->relname);
            char *low = k2 != NULL ? rw_lower(k2) : NULL;
            free(k2);
            list_add(w->out, low);
        }
    }
    for (i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)msg;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
            if (which != f->id) {
                continue;
            }
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(base + f->offset);
            size_t j;
            for (j = 0; j < n; j++) {
                walk_msg(arr[j], w);
            }
        } else {
            walk_msg(*(ProtobufCMessage *const *)(base + f->offset), w);
        }
    }
}

/* Check that P holds exactly one SELECT statement; message in *ERR otherwise. */
static int
one_select(const struct rw_parse *p, char **err)
{
    if (p->tree->n_stmts != 1 || p->tree->stmts[0]->stmt == NULL) {
        *err = rw_strdup(p->tree->n_stmts == 0 ? "empty statement"
                                                : "expected a single SELECT statement");
        return -1;
    }
    if (p->tree->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
        *err = rw_sprintf("expected a SELECT statement, got %s",
                          rw_node_name(p->tree->stmts[0]->stmt));
        return -1;
    }
    if (p->tree->stmts[0]->stmt->select_stmt->into_clause != NULL) {
        *err = rw_strdup("SELECT ... INTO is not a query");
        return -1;
    }
    return 0;
}

int
rw_check_select(const char *sql, size_t len, char **err, size_t *err_pos)
{
    struct rw_parse p;
    int rc;
    *err = NULL;
    rc = rw_parse_sql(sql, len, &p, err, err_pos);
    if (rc == 0) {
        rc = one_select(&p, err);
        if (rc != 0 && err_pos != NULL) {
            *err_pos = 0;
        }
    }
    rw_parse_free(&p);
    return rc;
}

int
rw_tables_read(const char *sql, size_t len, const char *db, char ***tables, size_t *n,
               char **err)
{
    struct rw_parse p;
    struct name_list ctes = {0}, out = {0};
    struct walk w;
    *tables = NULL;
    *n = 0;
    *err = NULL;
    if (rw_parse_sql(sql, len, &p, err, NULL) != 0 || one_select(&p, err) != 0) {
        rw_parse_free(&p);
        return -1;
    }
    w.db = db;
    w.ctes = &ctes;
    w.out = &out;
    w.want_ctes = true;
    walk_msg((const ProtobufCMessage *)p.tree, &w);
    w.want_ctes = false;
    walk_msg((const ProtobufCMessage *)p.tree, &w);
    rw_parse_free(&p);
    list_free(&ctes);
    if (out.oom) {
        list_free(&out);
        *err = rw_strdup("out of memory");
        return -1;
    }
    *tables = out.v;
    *n = out.n;
    return 0;
}
