/*
 * cat_part_resolve.c - working out how a partitioned view's partition column
 * derives from a base table column (cat_part_engine.h: cat_part_resolve),
 * from the definition's tokens and information_schema, at CREATE and at
 * load. SPEC §4; Doris best practices §3.1 (partition roll-up lineage).
 */
#include "cat_part_engine.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "cat.h"
#include "cat_calendar.h"
#include "cat_core.h"
#include "cat_part.h"
#include "cat_util.h"
#include "rw_lex.h"

/* ---- derivation ---- */

/* Token cursor over a text. */
struct toks {
    struct rw_lexer lx;             /* lexer (src borrowed) */
    struct rw_tok *t;               /* tokens */
    size_t n;                       /* count (without EOF) */
};

static void
toks_init(struct toks *k, const char *s)
{
    rw_lex_init(&k->lx, s, strlen(s));
    k->t = rw_lex_all(s, strlen(s), &k->n);
    if (k->t == NULL) {
        abort();
    }
    /* drop hints */
    {
        size_t i, j = 0;
        for (i = 0; i < k->n; i++) {
            if (k->t[i].kind != RW_TOK_HINT) {
                k->t[j++] = k->t[i];
            }
        }
        k->n = j;
    }
}

static bool
is_ident(struct rw_tok t)
{
    return t.kind == RW_TOK_IDENT || t.kind == RW_TOK_QIDENT;
}

/* Lower-cased text of token T. */
static char *
tok_low(const struct toks *k, struct rw_tok t)
{
    char *s = rw_tok_text(&k->lx, t);
    size_t i;
    if (s == NULL) {
        abort();
    }
    for (i = 0; s[i] != '\0'; i++) {
        s[i] = (char)tolower((unsigned char)s[i]);
    }
    return s;
}

/*
 * Strip the wrappers the derivation understands from tokens [A, B) (an
 * output expression) and find the base column: sets *COL_TOK (index of
 * the column token), *QUAL_TOK (qualifier index or SIZE_MAX) and *FLOOR.
 * Returns false when the expression is anything else.
 */
static bool
derive_expr(const struct toks *k, size_t a, size_t b, size_t *col_tok, size_t *qual_tok,
            enum cat_punit *floor)
{
    const struct rw_lexer *lx = &k->lx;
    for (;;) {
        if (b - a == 1 && is_ident(k->t[a])) {
            *col_tok = a;
            *qual_tok = SIZE_MAX;
            return true;
        }
        if (b - a == 3 && is_ident(k->t[a]) && rw_tok_is_op(lx, k->t[a + 1], ".") &&
            is_ident(k->t[a + 2])) {
            *col_tok = a + 2;
            *qual_tok = a;
            return true;
        }
        if (b - a >= 4 && rw_tok_is_op(lx, k->t[a + 1], "(") &&
            rw_tok_is_op(lx, k->t[b - 1], ")")) {
            /* F ( inner [, 'arg'] ) or CAST ( inner AS type ) */
            size_t in_a = a + 2, in_b = b - 1;
            if (rw_tok_is(lx, k->t[a], "DATE") || rw_tok_is(lx, k->t[a], "TO_DATE")) {
                if (*floor < CAT_PU_DAY) {
                    *floor = CAT_PU_DAY;
                }
                a = in_a;
                b = in_b;
                continue;
            }
            if (rw_tok_is(lx, k->t[a], "CAST") && in_b - in_a >= 3 &&
                rw_tok_is(lx, k->t[in_b - 2], "AS")) {
                if (rw_tok_is(lx, k->t[in_b - 1], "DATE")) {
                    if (*floor < CAT_PU_DAY) {
                        *floor = CAT_PU_DAY;
                    }
                } else if (!rw_tok_is(lx, k->t[in_b - 1], "DATETIME")) {
                    return false;
                }
                a = in_a;
                b = in_b - 2;
                continue;
            }
            if (rw_tok_is(lx, k->t[a], "CAST") && in_b - in_a >= 6 &&
                rw_tok_is(lx, k->t[in_b - 5], "AS") && rw_tok_is(lx, k->t[in_b - 4], "DATETIME")) {
                /* CAST(x AS DATETIME(n)) */
                a = in_a;
                b = in_b - 5;
                continue;
            }
            if ((rw_tok_is(lx, k->t[a], "DATE_FORMAT") || rw_tok_is(lx, k->t[a], "date_trunc")) &&
                in_b - in_a >= 3 && rw_tok_is_op(lx, k->t[in_b - 2], ",") &&
                k->t[in_b - 1].kind == RW_TOK_STRING) {
                char *fmt = rw_tok_text(lx, k->t[in_b - 1]);
                enum cat_punit u = CAT_PU_NONE;
                if (rw_tok_is(lx, k->t[a], "date_trunc")) {
                    u = cat_unit_parse(fmt);
                } else if (strcmp(fmt, "%Y-%m-%d") == 0) {
                    u = CAT_PU_DAY;
                } else if (strcmp(fmt, "%Y-%m-01") == 0) {
                    u = CAT_PU_MONTH;
                } else if (strcmp(fmt, "%Y-01-01") == 0) {
                    u = CAT_PU_YEAR;
                }
                free(fmt);
                if (u == CAT_PU_NONE) {
                    return false;
                }
                /* nested floors: the coarser one wins for day/month/year chains */
                if (u > *floor) {
                    *floor = u;
                }
                a = in_a;
                b = in_b - 2;
                continue;
            }
        }
        return false;
    }
}

/*
 * Find the output expression of view column COL in the definition DEF
 * (top-level select list). Returns true with [*A, *B) token bounds.
 */
static bool
find_output(const struct toks *k, const struct cat_mv *mv, const char *col, size_t *oa,
            size_t *ob)
{
    const struct rw_lexer *lx = &k->lx;
    size_t i = 0, start, item = 0;
    int depth = 0;
    if (k->n == 0 || !rw_tok_is(lx, k->t[0], "SELECT")) {
        return false; /* WITH ... or parenthesised: not followed */
    }
    i = 1;
    while (i < k->n && (rw_tok_is(lx, k->t[i], "DISTINCT") || rw_tok_is(lx, k->t[i], "ALL") ||
                        rw_tok_is(lx, k->t[i], "STRAIGHT_JOIN") ||
                        rw_tok_is(lx, k->t[i], "SQL_NO_CACHE"))) {
        i++;
    }
    start = i;
    for (; i <= k->n; i++) {
        bool at_end = i == k->n || (depth == 0 && (rw_tok_is_op(lx, k->t[i], ",") ||
                                                   rw_tok_is(lx, k->t[i], "FROM")));
        if (i < k->n && rw_tok_is_op(lx, k->t[i], "(")) {
            depth++;
        } else if (i < k->n && rw_tok_is_op(lx, k->t[i], ")")) {
            depth--;
        }
        if (!at_end) {
            continue;
        }
        {
            size_t a = start, b = i;
            char *name = NULL;
            if (b > a + 1 && is_ident(k->t[b - 1]) && rw_tok_is(lx, k->t[b - 2], "AS")) {
                name = tok_low(k, k->t[b - 1]);
                b -= 2;
            } else if (b > a + 1 && is_ident(k->t[b - 1]) &&
                       (rw_tok_is_op(lx, k->t[b - 2], ")") || is_ident(k->t[b - 2]))) {
                name = tok_low(k, k->t[b - 1]);
                b -= 1;
            } else if (b > a && is_ident(k->t[b - 1])) {
                name = tok_low(k, k->t[b - 1]);
            }
            if (mv->n_cols > 0) {
                free(name);
                name = item < mv->n_cols ? cat_xstrdup(mv->col_names[item]) : NULL;
            }
            if (name != NULL && cat_streq_ci(name, col)) {
                free(name);
                *oa = a;
                *ob = b;
                return true;
            }
            free(name);
        }
        if (i == k->n || rw_tok_is(lx, k->t[i], "FROM")) {
            break;
        }
        start = i + 1;
        item++;
    }
    return false;
}

/*
 * Number of identifier tokens of K equal (case-insensitively) to NAME that
 * may name a table: an identifier followed by "." is a qualifier
 * (tbl.col, or the db of db.tbl), not an appearance of the table, so
 * "FROM lineitem ... ON lineitem.l_orderkey = ..." counts once. A column
 * that happens to share the table's name still counts (over-counting only
 * leaves the view unmapped: safe).
 */
static size_t
count_ident(const struct toks *k, const char *name)
{
    size_t i, n = 0;
    for (i = 0; i < k->n; i++) {
        if (i + 1 < k->n && rw_tok_is_op(&k->lx, k->t[i + 1], ".")) {
            continue;
        }
        if (is_ident(k->t[i])) {
            char *s = tok_low(k, k->t[i]);
            n += strcmp(s, name) == 0;
            free(s);
        }
    }
    return n;
}

/* Base table that alias ALIAS names in K ("tbl [AS] alias"), lower case or NULL. */
static char *
alias_table(const struct toks *k, const char *alias)
{
    size_t i;
    for (i = 1; i < k->n; i++) {
        size_t j = i - 1;
        char *s;
        if (!is_ident(k->t[i])) {
            continue;
        }
        s = tok_low(k, k->t[i]);
        if (strcmp(s, alias) != 0) {
            free(s);
            continue;
        }
        free(s);
        if (rw_tok_is(&k->lx, k->t[j], "AS") && j > 0) {
            j--;
        }
        if (is_ident(k->t[j])) {
            return tok_low(k, k->t[j]);
        }
    }
    return NULL;
}

static void
set_unmapped(struct cat_part_spec *s, const char *why)
{
    free(s->unmapped_why);
    s->unmapped_why = cat_xstrdup(why);
    free(s->base_key);
    free(s->base_col);
    s->base_key = NULL;
    s->base_col = NULL;
    s->base_partitioned = false;
}

/* Is DB.TABLE RANGE partitioned on COL? Sets to_days for RANGE(TO_DAYS(col)). */
static bool
base_range_partitioned(MYSQL *c, const char *db, const char *table, const char *col,
                       bool *to_days)
{
    struct cat_buf q = {0};
    MYSQL_RES *res;
    MYSQL_ROW row;
    bool ok = false;
    cat_buf_puts(&q, "SELECT PARTITION_METHOD, PARTITION_EXPRESSION FROM information_schema."
                     "PARTITIONS WHERE TABLE_SCHEMA = ");
    cat_buf_lit(&q, db);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, table);
    cat_buf_puts(&q, " AND PARTITION_NAME IS NOT NULL LIMIT 1");
    *to_days = false;
    if (mysql_real_query(c, q.p, q.len) == 0 && (res = mysql_store_result(c)) != NULL) {
        row = mysql_fetch_row(res);
        if (row != NULL && row[0] != NULL && row[1] != NULL) {
            char expr[256];
            size_t i, j = 0;
            for (i = 0; row[1][i] != '\0' && j + 1 < sizeof(expr); i++) {
                if (row[1][i] != '`' && row[1][i] != ' ') {
                    expr[j++] = (char)tolower((unsigned char)row[1][i]);
                }
            }
            expr[j] = '\0';
            if (strcmp(row[0], "RANGE COLUMNS") == 0 && strcmp(expr, col) == 0) {
                ok = true;
            } else if (strcmp(row[0], "RANGE") == 0 && strncmp(expr, "to_days(", 8) == 0 &&
                       strncmp(expr + 8, col, strlen(col)) == 0 &&
                       strcmp(expr + 8 + strlen(col), ")") == 0) {
                ok = true;
                *to_days = true;
            }
        }
        mysql_free_result(res);
    }
    cat_buf_free(&q);
    return ok;
}

/* The storage column of MV->part must exist and be a DATE / DATETIME /
 * TIMESTAMP; sets MV->part->col_type. Returns 0, or -1 with ERR. */
static int
check_storage_column(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen)
{
    struct cat_part_spec *s = mv->part;
    struct cat_buf q = {0};
    char *type;
    size_t i;

    cat_buf_puts(&q, "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
    cat_buf_lit(&q, mv->db);
    cat_buf_puts(&q, " AND TABLE_NAME = ");
    cat_buf_lit(&q, mv->name);
    cat_buf_puts(&q, " AND COLUMN_NAME = ");
    cat_buf_lit(&q, s->col);
    type = cat_q_value(c, q.p, NULL);
    cat_buf_free(&q);
    if (type == NULL) {
        snprintf(err, errlen,
                 "PARTITION BY column `%s` is not an output column of materialized view %s.%s",
                 s->col, mv->db, mv->name);
        return -1;
    }
    for (i = 0; type[i] != '\0'; i++) {
        type[i] = (char)tolower((unsigned char)type[i]);
    }
    if (strcmp(type, "date") != 0 && strcmp(type, "datetime") != 0 &&
        strcmp(type, "timestamp") != 0) {
        snprintf(err, errlen,
                 "PARTITION BY column `%s` of %s.%s is %s: partitioned views need a DATE or "
                 "DATETIME column derived from the partition column of a base table",
                 s->col, mv->db, mv->name, type);
        free(type);
        return -1;
    }
    free(s->col_type);
    s->col_type = type;
    return 0;
}

/* A backend VIEW among MV's inputs: writes to the tables under it are not
 * attributed to it, so partitions could not be kept honest. Returns 0, or
 * -1 with ERR naming the view. */
static int
check_no_backend_view(MYSQL *c, const struct cat_mv *mv, char *err, size_t errlen)
{
    struct cat_buf q = {0};
    size_t i;

    for (i = 0; i < mv->n_bases; i++) {
        const char *dot = strchr(mv->bases[i], '.');
        char *dbn, *tt;
        if (dot == NULL) {
            continue;
        }
        dbn = cat_xstrndup(mv->bases[i], (size_t)(dot - mv->bases[i]));
        cat_buf_puts(&q, "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
        cat_buf_lit(&q, dbn);
        cat_buf_puts(&q, " AND TABLE_NAME = ");
        cat_buf_lit(&q, dot + 1);
        tt = cat_q_value(c, q.p, NULL);
        cat_buf_free(&q);
        free(dbn);
        if (tt != NULL && strcmp(tt, "VIEW") == 0) {
            snprintf(err, errlen,
                     "partitioned materialized view %s.%s reads the backend view %s: the "
                     "partition column must come from a base table (RANGE partitioned by a "
                     "date column, or unpartitioned)", mv->db, mv->name, mv->bases[i]);
            free(tt);
            return -1;
        }
        free(tt);
    }
    return 0;
}

/*
 * Which of MV's base tables (qualified by QUAL / QUAL_TABLE when not NULL)
 * has column COL? Returns how many do; the first one's key goes to *FOUND
 * (caller frees), and *WHY is set when it is a backend view's column or
 * not a date.
 */
static size_t
find_base_column(MYSQL *c, const struct cat_mv *mv, const char *col, const char *qual,
                 const char *qual_table, char **found, const char **why)
{
    struct cat_buf q = {0};
    size_t i, n_found = 0;

    for (i = 0; i < mv->n_bases; i++) {
        const char *dot = strchr(mv->bases[i], '.');
        const char *tname = dot ? dot + 1 : mv->bases[i];
        char *v;
        if (qual_table != NULL && strcmp(qual_table, tname) != 0 && strcmp(qual, tname) != 0) {
            continue;
        }
        cat_buf_puts(&q, "SELECT CONCAT(t.TABLE_TYPE, ':', c.DATA_TYPE) FROM information_schema."
                         "COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = "
                         "c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME WHERE c.TABLE_SCHEMA = ");
        {
            /* constants on both sides: each is a one-table lookup, not a scan
             * of every database (which crashed MariaDB 10.11 under DDL) */
            char *dbn = dot ? cat_xstrndup(mv->bases[i], (size_t)(dot - mv->bases[i]))
                            : cat_xstrdup(mv->db);
            cat_buf_lit(&q, dbn);
            cat_buf_puts(&q, " AND t.TABLE_SCHEMA = ");
            cat_buf_lit(&q, dbn);
            free(dbn);
        }
        cat_buf_puts(&q, " AND c.TABLE_NAME = ");
        cat_buf_lit(&q, tname);
        cat_buf_puts(&q, " AND t.TABLE_NAME = ");
        cat_buf_lit(&q, tname);
        cat_buf_puts(&q, " AND LOWER(c.COLUMN_NAME) = ");
        cat_buf_lit(&q, col);
        v = cat_q_value(c, q.p, NULL);
        cat_buf_free(&q);
        if (v != NULL) {
            n_found++;
            if (n_found == 1) {
                *found = cat_xstrdup(mv->bases[i]);
                if (strncmp(v, "BASE TABLE:", 11) != 0) {
                    *why = "the column comes from a backend view, not a base table";
                }
                if (strstr(v, ":date") == NULL && strstr(v, ":timestamp") == NULL) {
                    *why = "the base column is not DATE/DATETIME";
                }
            }
            free(v);
        }
    }
    return n_found;
}

int
cat_part_resolve(MYSQL *c, struct cat_mv *mv, char *err, size_t errlen)
{
    struct cat_part_spec *s = mv->part;
    struct toks k;
    const char *why = NULL;
    size_t oa, ob, col_tok, qual_tok;
    enum cat_punit fl = CAT_PU_NONE;
    char *col = NULL, *qual = NULL, *qual_table = NULL, *found = NULL;
    size_t n_found;
    int rc = 0;

    cat_part_apply_props(s, mv->properties_json);
    if (check_storage_column(c, mv, err, errlen) != 0 ||
        check_no_backend_view(c, mv, err, errlen) != 0) {
        return -1;
    }
    /* the derivation, from the definition text */
    toks_init(&k, mv->query_sql);
    if (!find_output(&k, mv, s->col, &oa, &ob)) {
        why = "the column's expression could not be located in the definition (WITH, SELECT * "
              "or a parenthesised query)";
        goto unmapped;
    }
    if (!derive_expr(&k, oa, ob, &col_tok, &qual_tok, &fl)) {
        why = "the column is not a base column or DATE()/CAST()/date_trunc() of one";
        goto unmapped;
    }
    col = tok_low(&k, k.t[col_tok]);
    if (qual_tok != SIZE_MAX) {
        qual = tok_low(&k, k.t[qual_tok]);
        qual_table = alias_table(&k, qual);
        if (qual_table == NULL) {
            qual_table = cat_xstrdup(qual);
        }
    }
    n_found = find_base_column(c, mv, col, qual, qual_table, &found, &why);
    if (n_found == 0) {
        why = "no base table of the definition has that column";
        goto unmapped;
    }
    if (n_found > 1) {
        why = "several base tables have a column of that name";
        goto unmapped;
    }
    if (why != NULL && strstr(why, "backend view") != NULL) {
        /* writes to the tables under a backend view are not attributed to
         * it, so the view's partitions could not be kept honest */
        snprintf(err, errlen,
                 "PARTITION BY column `%s` of %s.%s derives from the backend view %s: the "
                 "partition column must come from a base table (RANGE partitioned by a date "
                 "column, or unpartitioned)", s->col, mv->db, mv->name, found);
        rc = -1;
        goto out;
    }
    if (why != NULL) {
        goto unmapped;
    }
    if (count_ident(&k, strchr(found, '.') + 1) != 1) {
        why = "the base table appears more than once in the definition";
        goto unmapped;
    }
    free(s->base_key);
    free(s->base_col);
    s->base_key = found;
    found = NULL;
    s->base_col = col;
    col = NULL;
    s->base_floor = fl;
    free(s->unmapped_why);
    s->unmapped_why = NULL;
    {
        char *dbn = cat_xstrndup(s->base_key, (size_t)(strchr(s->base_key, '.') - s->base_key));
        s->base_partitioned = base_range_partitioned(c, dbn, strchr(s->base_key, '.') + 1,
                                                     s->base_col, &s->base_to_days);
        free(dbn);
    }
    goto out;
unmapped:
    set_unmapped(s, why);
out:
    free(k.t);
    free(col);
    free(qual);
    free(qual_table);
    free(found);
    return rc;
}

