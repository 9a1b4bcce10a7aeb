/*
 * test_rw_model.c - statement helpers and view models: rw_check_select,
 * rw_tables_read, rw_mv_model_build failures and unfolded table lists,
 * output names and byte-identical splicing, merging of derived tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "rw_emit.h"
#include "rw_model.h"
#include "rw_test_snap.h"

static void
test_check_select(void **st)
{
    char *err = NULL;
    size_t pos = 99;
    const char *bad = "SELECT a FROM t WHERE";
    (void)st;
    assert_int_equal(rw_check_select("SELECT a FROM t", 15, &err, &pos), 0);
    assert_int_equal(rw_check_select(bad, strlen(bad), &err, &pos), -1);
    assert_non_null(err);
    assert_true(pos <= strlen(bad));
    free(err);
    assert_int_equal(rw_check_select("DELETE FROM t", 13, &err, &pos), -1);
    free(err);
}

static void
test_tables_read(void **st)
{
    const char *q = "WITH c AS (SELECT x FROM other.t2) SELECT * FROM T1 a JOIN c ON a.x = c.x "
                    "WHERE a.y IN (SELECT y FROM `Shop`.`T3`)";
    char **t = NULL, *err = NULL;
    size_t n = 0;
    (void)st;
    assert_int_equal(rw_tables_read(q, strlen(q), "db", &t, &n, &err), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_true(strcmp(t[i], "other.t2") == 0 || strcmp(t[i], "db.t1") == 0 ||
                    strcmp(t[i], "shop.t3") == 0);
    }
    for (size_t i = 0; i < n; i++) {
        free(t[i]);
    }
    free(t);
    assert_int_equal(rw_tables_read("SELEC", 5, "db", &t, &n, &err), -1);
    free(err);
}

static void
test_view_models(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *a, *b, *c;
    const char *const *keys;
    (void)st;
    a = ts_view(s, "test", "v1", "SELECT DISTINCT region_id FROM raw_sales", "region_id int", 5);
    assert_non_null(a->model);
    b = ts_view(s, "test", "v2", "SELECT region_id, COUNT(*) AS n FROM v1 GROUP BY region_id",
                "region_id int,n bigint", 5);
    assert_non_null(b->model);
    /* v2 over v1 unfolds to raw_sales; the direct table stays listed */
    assert_int_equal(rw_mv_model_tables(b->model, &keys), 2);
    assert_string_equal(keys[0], "test.raw_sales");
    assert_string_equal(keys[1], "test.v1");
    c = ts_view(s, "test", "v3", "SELECT region_id FROM raw_sales WHERE sale_date > CURDATE()",
                "region_id int", 5);
    assert_null(c->model);
    c = ts_view(s, "test", "v4", "SELECT nope FROM raw_sales", "nope int", 5);
    assert_null(c->model);
    assert_non_null(strstr(c->model_error, "nope"));
    c = ts_view(s, "test", "v5",
                "SELECT region_id FROM raw_sales WHERE region_id IN (SELECT 1 FROM orders)",
                "region_id int", 5);
    assert_null(c->model);
    ts_free(s);
}

/* rw_mv_model_index_cols: the columns of a view's default indexes (engine/cat_index.c). */
static void
test_index_cols(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct cat_mv *mv;
    const char *cols[3];
    char what = 'x';
    (void)st;
    /* the first up to 3 GROUP BY outputs, in GROUP BY order, by storage name */
    mv = ts_view(s, "test", "ig1",
                 "SELECT category_id AS c, region_id AS r, product_id AS p, customer_id AS u,"
                 " SUM(sale_amount) AS s FROM raw_sales"
                 " GROUP BY region_id, category_id, product_id, customer_id",
                 "c int,r int,p int,u int,s decimal(34,2)", 5);
    assert_int_equal(rw_mv_model_index_cols(mv->model, cols, 3, &what), 3);
    assert_int_equal(what, 'g');
    assert_string_equal(cols[0], "r");
    assert_string_equal(cols[1], "c");
    assert_string_equal(cols[2], "p");
    /* stops at the first grouping expression that is not an output */
    mv = ts_view(s, "test", "ig2",
                 "SELECT region_id, SUM(sale_amount) AS s FROM raw_sales"
                 " GROUP BY region_id, status",
                 "region_id int,s decimal(34,2)", 5);
    assert_int_equal(rw_mv_model_index_cols(mv->model, cols, 3, &what), 1);
    assert_string_equal(cols[0], "region_id");
    /* a join without GROUP BY: the first join-key output */
    mv = ts_view(s, "test", "ij",
                 "SELECT l.l_quantity, o.o_orderdate, l.l_orderkey FROM lineitem l"
                 " JOIN orders o ON l.l_orderkey = o.o_orderkey",
                 "l_quantity decimal(15,2),o_orderdate date,l_orderkey int", 5);
    assert_int_equal(rw_mv_model_index_cols(mv->model, cols, 3, &what), 1);
    assert_int_equal(what, 'j');
    assert_string_equal(cols[0], "l_orderkey");
    /* one table, no GROUP BY; and no model */
    mv = ts_view(s, "test", "in", "SELECT region_id, status FROM raw_sales",
                 "region_id int,status varchar(20)", 5);
    assert_int_equal(rw_mv_model_index_cols(mv->model, cols, 3, &what), 0);
    assert_int_equal(what, 0);
    assert_int_equal(rw_mv_model_index_cols(NULL, cols, 3, &what), 0);
    ts_free(s);
}

/* Model of view NAME AS SQL with storage columns SPEC (asserts it builds). */
static const struct rw_model *
dmodel(struct cat_snapshot *s, const char *name, const char *sql, const char *spec)
{
    struct cat_mv *mv = ts_view(s, "test", name, sql, spec, 5);
    if (mv->model == NULL) {
        fprintf(stderr, "%s: %s\n", name, mv->model_error ? mv->model_error : "?");
    }
    assert_non_null(mv->model);
    return mv->model->direct;
}

/* Model error of view NAME AS SQL (asserts it is refused, with NEEDLE in the reason). */
static void
drefused(struct cat_snapshot *s, const char *name, const char *sql, const char *spec,
         const char *needle)
{
    struct cat_mv *mv = ts_view(s, "test", name, sql, spec, 5);
    assert_null(mv->model);
    assert_non_null(mv->model_error);
    if (strstr(mv->model_error, needle) == NULL) {
        fprintf(stderr, "%s: '%s' lacks '%s'\n", name, mv->model_error, needle);
    }
    assert_non_null(strstr(mv->model_error, needle));
}

static void
test_derived_merge(void **st)
{
    struct cat_snapshot *s = ts_base();
    const struct rw_model *m;
    (void)st;
    /* preserved / inner side: the body's WHERE is a WHERE of the block */
    m = dmodel(s, "d1", "SELECT t.l_partkey, t.l_shipdate FROM (SELECT * FROM lineitem WHERE "
                        "l_quantity > 5) t", "a int,b date");
    assert_true(m->has_derived);
    assert_int_equal(m->n_tabs, 1);
    assert_int_equal(m->n_conj, 1);
    assert_int_equal(m->n_out, 2);
    assert_int_equal(m->out[0].e->kind, RW_E_COL);
    assert_int_equal(m->out[0].e->tab, 0);
    assert_string_equal(m->out[0].e->name, "l_partkey");
    /* null-supplying side: the body's WHERE joins the ON */
    m = dmodel(s, "d2", "SELECT l_shipdate, o_orderdate FROM lineitem LEFT JOIN (SELECT * FROM "
                        "orders WHERE o_orderdate = '2023-10-17') t2 ON lineitem.l_orderkey = "
                        "t2.o_orderkey", "a date,b date");
    assert_int_equal(m->n_tabs, 2);
    assert_int_equal(m->n_conj, 0);
    assert_int_equal(m->n_oj, 1);
    assert_int_equal(m->oj[0].tab, 1);
    assert_int_equal(m->oj[0].n_on, 2);
    /* RIGHT JOIN: normalised, the derived table (first instance) null-supplied */
    m = dmodel(s, "d3", "SELECT l_shipdate, t.o_orderdate FROM (SELECT o_orderdate, o_orderkey "
                        "FROM orders WHERE o_orderdate = '2023-10-17') t RIGHT JOIN lineitem ON "
                        "lineitem.l_orderkey = t.o_orderkey", "a date,b date");
    assert_int_equal(m->n_oj, 1);
    assert_int_equal(m->oj[0].tab, 0);
    assert_int_equal(m->oj[0].n_on, 2);
    assert_int_equal(m->n_conj, 0);
    /* expressions substitute; nested derived tables merge; SELECT * keeps names */
    m = dmodel(s, "d4", "SELECT * FROM (SELECT u.x AS y FROM (SELECT l_quantity + l_discount AS x "
                        "FROM lineitem WHERE l_partkey = 3) u WHERE u.x > 1) t",
               "y decimal(16,2)");
    assert_int_equal(m->n_out, 1);
    assert_string_equal(m->out[0].name, "y");
    assert_int_equal(m->out[0].e->kind, RW_E_OP);
    assert_string_equal(m->out[0].e->name, "+");
    assert_int_equal(m->n_conj, 2);
    /* a strict expression on the null side is fine (NULL when padded) */
    m = dmodel(s, "d5", "SELECT l_orderkey, t.p FROM lineitem LEFT JOIN (SELECT o_orderkey, "
                        "o_totalprice * 2 AS p FROM orders) t ON l_orderkey = t.o_orderkey",
               "a int,p decimal(16,2)");
    assert_int_equal(m->n_oj, 1);
    ts_free(s);
}

static void
test_derived_refused(void **st)
{
    struct cat_snapshot *s = ts_base();
    (void)st;
    drefused(s, "r3", "SELECT t.o_custkey FROM (SELECT o_custkey FROM orders LIMIT 3) t", "a int",
             "LIMIT");
    drefused(s, "r4", "SELECT t.n FROM (SELECT COUNT(*) AS n FROM orders) t", "a int",
             "aggregates");
    drefused(s, "r5", "SELECT t.o_custkey FROM (SELECT o_custkey FROM orders UNION ALL SELECT "
                      "l_partkey FROM lineitem) t", "a int", "UNION");
    drefused(s, "r6", "SELECT l_orderkey, t.c FROM lineitem LEFT JOIN (SELECT o_orderkey, "
                      "COALESCE(o_custkey, 0) AS c FROM orders) t ON l_orderkey = t.o_orderkey",
             "a int,c int", "null-supplying");
    drefused(s, "r7", "SELECT l_orderkey, t.one FROM lineitem LEFT JOIN (SELECT o_orderkey, 1 AS one "
                      "FROM orders) t ON l_orderkey = t.o_orderkey", "a int,c int",
             "null-supplying");
    drefused(s, "r8", "SELECT l_orderkey, t.o_custkey FROM lineitem LEFT JOIN (SELECT o.o_orderkey, "
                      "o.o_custkey FROM orders o JOIN raw_sales r ON r.customer_id = o.o_custkey) t "
                      "ON l_orderkey = t.o_orderkey", "a int,c int", "nested outer join");
    drefused(s, "r9", "SELECT t.l_partkey FROM (SELECT o.l_partkey FROM lineitem o) t WHERE "
                      "o.l_partkey > 1", "a int", "unknown table o");
    drefused(s, "r10", "SELECT o_orderkey FROM (SELECT o_orderkey FROM orders) a JOIN orders b ON "
                       "a.o_orderkey = b.o_orderkey", "a int", "ambiguous");
    drefused(s, "r11", "SELECT t.o_custkey FROM (SELECT o_custkey, o_orderkey AS O_CUSTKEY FROM "
                       "orders) t", "a int", "two columns");
    drefused(s, "r12", "SELECT t.r FROM (SELECT RAND() AS r FROM orders) t", "a double",
             "non-deterministic");
    ts_free(s);
}

/* Instance 0 of the model of view NAME AS SQL with storage columns SPEC. */
static const struct rw_tab *
otab(struct cat_snapshot *s, const char *name, const char *sql, const char *spec)
{
    const struct rw_model *m = dmodel(s, name, sql, spec);
    assert_true(m->n_tabs >= 1);
    return &m->tabs[0];
}

static void
test_derived_opaque(void **st)
{
    struct cat_snapshot *s = ts_base();
    const struct rw_tab *a, *b;
    const char *const *keys = NULL;
    struct rw_buf g = {0};
    char *txt;
    size_t i, n;
    (void)st;
    a = otab(s, "o1", "SELECT t.o_custkey, t.n FROM (SELECT o_custkey, COUNT(*) AS n FROM orders "
                      "WHERE o_totalprice > 5 AND o_orderkey < 100 GROUP BY o_custkey) t",
             "a int,n bigint");
    assert_true(a->opaque);
    assert_non_null(a->body);
    assert_non_null(a->sig);
    assert_int_equal(strncmp(a->key, "derived:", 8), 0);
    assert_int_equal(a->n_cols, 2);
    /* a plain column keeps its schema; an aggregate has no range type */
    assert_string_equal(a->cols[0].name, "o_custkey");
    assert_string_equal(a->cols[0].data_type, "int");
    assert_int_equal(rw_rtype_of(a->cols[0].data_type), RW_R_NUM);
    assert_string_equal(a->cols[1].name, "n");
    assert_int_equal(rw_rtype_of(a->cols[1].data_type), RW_R_NONE);
    assert_true(a->cols[1].nullable);
    assert_int_equal(a->n_ukeys + a->n_fkeys, 0);
    /* spelling, alias, conjunct order and letter case do not matter */
    b = otab(s, "o2", "select X.o_custkey, x.n from (SELECT O_CUSTKEY, count(*) n FROM orders "
                      "where o_orderkey < 100 and o_totalprice > 5 group by O_custkey) AS x",
             "a int,n bigint");
    assert_string_equal(a->key, b->key);
    assert_string_equal(a->sig, b->sig);
    /* a different filter, grouping, output name or HAVING is another instance kind */
    b = otab(s, "o3", "SELECT t.o_custkey, t.n FROM (SELECT o_custkey, COUNT(*) AS n FROM orders "
                      "WHERE o_totalprice > 6 AND o_orderkey < 100 GROUP BY o_custkey) t",
             "a int,n bigint");
    assert_string_not_equal(a->sig, b->sig);
    b = otab(s, "o4", "SELECT t.o_custkey, t.n FROM (SELECT o_custkey, COUNT(*) AS n FROM orders "
                      "WHERE o_totalprice > 5 AND o_orderkey < 100 GROUP BY o_custkey, "
                      "o_orderdate) t", "a int,n bigint");
    assert_string_not_equal(a->sig, b->sig);
    b = otab(s, "o5", "SELECT t.o_custkey, t.m FROM (SELECT o_custkey, COUNT(*) AS m FROM orders "
                      "WHERE o_totalprice > 5 AND o_orderkey < 100 GROUP BY o_custkey) t",
             "a int,n bigint");
    assert_string_not_equal(a->key, b->key);
    b = otab(s, "o6", "SELECT t.o_custkey, t.n FROM (SELECT o_custkey, COUNT(*) AS n FROM orders "
                      "WHERE o_totalprice > 5 AND o_orderkey < 100 GROUP BY o_custkey HAVING "
                      "COUNT(*) > 1) t", "a int,n bigint");
    assert_string_not_equal(a->sig, b->sig);
    b = otab(s, "o7", "SELECT t.o_custkey FROM (SELECT DISTINCT o_custkey FROM orders) t", "a int");
    assert_true(b->opaque);
    /* the view's tables are the body's base tables, never the opaque key */
    {
        struct cat_mv *mv = ts_view(s, "test", "o8", "SELECT l_partkey, t.n FROM lineitem JOIN "
                                    "(SELECT o_orderkey, COUNT(*) AS n FROM orders GROUP BY "
                                    "o_orderkey) t ON t.o_orderkey = l_orderkey",
                                    "a int,n bigint", 5);
        assert_non_null(mv->model);
        /* a NOT NULL grouped column of an inner-joined instance stays NOT NULL */
        assert_true(mv->model->direct->tabs[1].opaque);
        assert_false(mv->model->direct->tabs[1].cols[0].nullable);
        assert_true(mv->model->direct->tabs[1].cols[1].nullable);
        n = rw_mv_model_tables(mv->model, &keys);
        assert_int_equal(n, 2);
        for (i = 0; i < n; i++) {
            assert_null(strstr(keys[i], "derived"));
        }
        /* the privilege guard names the body's table and the columns it reads */
        rw_emit_guard(&g, mv->model->direct);
        txt = rw_buf_take(&g);
        assert_non_null(strstr(txt, "NOT EXISTS (SELECT `o_orderkey` FROM `test`.`orders` "
                                    "WHERE 0)"));
        assert_non_null(strstr(txt, "`test`.`lineitem`"));
        assert_null(strstr(txt, "derived"));
        free(txt);
    }
    /* refused bodies */
    drefused(s, "or1", "SELECT t.o_custkey FROM (SELECT o_custkey FROM orders ORDER BY o_custkey "
                       "LIMIT 3) t", "a int", "LIMIT");
    drefused(s, "or2", "SELECT t.o_custkey, t.o_orderdate FROM (SELECT o_custkey, o_orderdate FROM "
                       "orders GROUP BY o_custkey) t", "a int,b date", "neither grouped");
    drefused(s, "or3", "SELECT t.o_custkey FROM (SELECT o_custkey FROM orders WHERE RAND() < 1 "
                       "GROUP BY o_custkey) t", "a int", "non-deterministic");
    drefused(s, "or4", "SELECT t.c FROM (SELECT o_custkey, COUNT(*) AS c FROM orders GROUP BY "
                       "o_custkey HAVING MAX(o_orderdate) > o_totalprice) t", "a int",
             "HAVING");
    drefused(s, "or5", "SELECT t.c FROM (SELECT o_custkey AS c FROM orders o GROUP BY o_custkey) t "
                       "JOIN lineitem ON t.c = lineitem.l_partkey AND t.zz = 1", "a int",
             "unknown column");
    ts_free(s);
}

/* Output names through merged derived tables (MariaDB 10.11): a bare
 * reference reports the derived column's name as the body spells it; an
 * alias, an expression or a base-table reference keeps the query's text. */
static void
test_derived_names(void **st)
{
    struct cat_snapshot *s = ts_base();
    const struct rw_model *m;
    (void)st;
    m = dmodel(s, "n1", "SELECT L_PARTKEY, t.L_SHIPDATE, l_partkey AS Pk, l_partkey + 0 FROM "
                        "(SELECT l_partkey, l_shipdate FROM lineitem) t",
               "a int,b date,c int,d int");
    assert_int_equal(m->n_out, 4);
    assert_string_equal(m->out[0].name, "l_partkey");
    assert_string_equal(m->out[1].name, "l_shipdate");
    assert_string_equal(m->out[2].name, "Pk");
    assert_string_equal(m->out[3].name, "l_partkey + 0");
    /* nested: the innermost spelling travels out; a body alias is the name */
    m = dmodel(s, "n2", "SELECT l_partkey, q FROM (SELECT L_PartKey, Q FROM (SELECT l_partkey AS "
                        "L_PARTKEY, l_quantity AS Q FROM lineitem) a) b", "a int,b int");
    assert_string_equal(m->out[0].name, "L_PARTKEY");
    assert_string_equal(m->out[1].name, "Q");
    /* a base table's column: as written */
    m = dmodel(s, "n3", "SELECT L_PARTKEY FROM lineitem", "a int");
    assert_string_equal(m->out[0].name, "L_PARTKEY");
    ts_free(s);
}

/* Top-N views: a grouped view whose ORDER BY names every GROUP BY expression
 * gets a model (with its LIMIT); every other view with LIMIT is refused. */
static void
test_topn_models(void **st)
{
    struct cat_snapshot *s = ts_base();
    const struct rw_model *m;
    (void)st;
    m = dmodel(s, "t1", "SELECT o_custkey, o_orderdate, COUNT(*) FROM orders GROUP BY o_custkey, "
                        "o_orderdate ORDER BY o_orderdate DESC, o_custkey LIMIT 5 OFFSET 2",
               "a int,b date,c bigint");
    assert_non_null(m->limit_text);
    assert_string_equal(m->limit_text, "5");
    assert_string_equal(m->offset_text, "2");
    assert_int_equal(m->n_sort, 2);
    /* ORDER BY an aggregate first, then the keys: still total */
    dmodel(s, "t2", "SELECT o_custkey, SUM(o_totalprice) AS s FROM orders GROUP BY o_custkey "
                    "ORDER BY s DESC, 1 LIMIT 3", "a int,s decimal(37,2)");
    /* DISTINCT is a grouping by the outputs */
    dmodel(s, "t3", "SELECT DISTINCT o_custkey FROM orders ORDER BY o_custkey LIMIT 3", "a int");
    drefused(s, "t4", "SELECT o_custkey, o_orderdate, COUNT(*) FROM orders GROUP BY o_custkey, "
                      "o_orderdate ORDER BY o_custkey LIMIT 5", "a int,b date,c bigint",
             "does not name every GROUP BY expression");
    drefused(s, "t5", "SELECT o_custkey, o_orderkey FROM orders ORDER BY o_orderkey LIMIT 5",
             "a int,b int", "a Top-N view is used only when it groups");
    drefused(s, "t6", "SELECT o_custkey, COUNT(*) FROM orders GROUP BY o_custkey LIMIT 5",
             "a int,b bigint", "ORDER BY ... LIMIT");
    ts_free(s);
}

static void
test_names_and_splice(void **st)
{
    struct cat_snapshot *s = ts_base();
    struct rw_options opt = {true, true, 5000, 0};
    struct rw_outcome o;
    const char *q = "-- head\n/* c */ SELECT  Region_ID , `category_id`, sale_amount*2  ,"
                    "sale_amount AS 'Amt' FROM test.raw_sales WHERE region_id = 1 ;  /* tail */";
    (void)st;
    ts_view(s, "test", "v", "SELECT region_id, category_id, sale_amount FROM raw_sales",
            "region_id int,category_id int,sale_amount decimal(12,2)", 5);
    assert_int_equal(rw_rewrite(q, strlen(q), NULL, s, &opt, &o), 0);
    assert_true(o.rewritten);
    assert_string_equal(
        o.sql, "-- head\n/* c */ SELECT `test`.`v`.`region_id` AS `Region_ID`, "
               "`test`.`v`.`category_id` AS `category_id`, (`test`.`v`.`sale_amount` * 2) AS "
               "`sale_amount*2`, `test`.`v`.`sale_amount` AS `Amt` FROM `test`.`v` WHERE "
               "(`test`.`v`.`region_id` = 1) AND NOT EXISTS (SELECT `category_id`, `region_id`, "
               "`sale_amount` FROM `test`.`raw_sales` WHERE 0) ;  /* tail */");
    rw_outcome_free(&o);
    ts_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_select),     cmocka_unit_test(test_tables_read),
        cmocka_unit_test(test_view_models),      cmocka_unit_test(test_index_cols),
        cmocka_unit_test(test_names_and_splice), cmocka_unit_test(test_derived_merge),
        cmocka_unit_test(test_derived_refused),  cmocka_unit_test(test_derived_opaque),
        cmocka_unit_test(test_derived_names),    cmocka_unit_test(test_topn_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
