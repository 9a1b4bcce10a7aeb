/*
 * test_cat_constraint.c - informational constraints without a backend: the
 * admin-SQL parser (ALTER TABLE ... NOT ENFORCED, DROP CONSTRAINT, StarRocks
 * SET properties, SHOW CONSTRAINTS), what is left to MariaDB, and the merge
 * of a snapshot's informational constraints into its tables' keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cat.h"
#include "cat_admin.h"
#include "cat_constraint.h"
#include "cat_core.h"
#include "cat_parse.h"
#include "cat_reply.h"
#include "cat_util.h"
#include "cat_test_parse.h"


static void
test_add_constraint(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    (void)state;
    assert_int_equal(parse("alter table partsupp add constraint pk primary key(ps_partkey, "
                           "ps_suppkey) NOT ENFORCED",
                           &st, &e),
                     1);
    assert_int_equal(st.kind, CAT_ST_ADD_CONSTRAINT);
    assert_null(st.db);
    assert_string_equal(st.name, "partsupp");
    assert_int_equal(st.n_cons, 1);
    assert_int_equal(st.cons[0].type, CAT_CON_PRIMARY);
    assert_string_equal(st.cons[0].name, "pk");
    assert_int_equal(st.cons[0].n_cols, 2);
    assert_string_equal(st.cons[0].cols[1], "ps_suppkey");
    done(&st, &e);

    assert_int_equal(parse("ALTER TABLE `s`.`li` ADD CONSTRAINT `fk 1` FOREIGN KEY (a, `b`) "
                           "REFERENCES s2.ps (x, y) NOT ENFORCED;",
                           &st, &e),
                     1);
    assert_string_equal(st.db, "s");
    assert_string_equal(st.name, "li");
    assert_int_equal(st.cons[0].type, CAT_CON_FOREIGN);
    assert_string_equal(st.cons[0].name, "fk 1");
    assert_string_equal(st.cons[0].ref_db, "s2");
    assert_string_equal(st.cons[0].ref_name, "ps");
    assert_int_equal(st.cons[0].n_ref_cols, 2);
    assert_string_equal(st.cons[0].ref_cols[0], "x");
    assert_string_equal(st.cons[0].cols[1], "b");
    done(&st, &e);

    /* UNIQUE [KEY], no CONSTRAINT name (named at run time) */
    assert_int_equal(parse("ALTER TABLE t ADD UNIQUE KEY (c) NOT ENFORCED", &st, &e), 1);
    assert_int_equal(st.cons[0].type, CAT_CON_UNIQUE);
    assert_null(st.cons[0].name);
    done(&st, &e);
    assert_int_equal(parse("ALTER TABLE t ADD CONSTRAINT UNIQUE (c) NOT ENFORCED", &st, &e), 1);
    assert_null(st.cons[0].name);
    done(&st, &e);

    /* ours (NOT ENFORCED) but malformed: a syntax error, never relayed */
    assert_int_equal(parse("ALTER TABLE t ADD CONSTRAINT c PRIMARY KEY () NOT ENFORCED", &st, &e),
                     -1);
    assert_int_equal(e.err_code, 1064);
    done(&st, &e);
    assert_int_equal(parse("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT ENFORCED", &st, &e),
                     -1);
    assert_non_null(strstr(e.err_msg, "near 'CHECK"));
    done(&st, &e);
    assert_int_equal(parse("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) NOT ENFORCED", &st, &e),
                     -1);
    done(&st, &e);
}

static void
test_relayed_alter(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    static const char *const real[] = {
        "ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY (a)",
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (b)",
        "ALTER TABLE t ADD COLUMN c INT NOT NULL",
        "ALTER TABLE t ENGINE = InnoDB",
        "ALTER TABLE t DROP CONSTRAINT c, ADD COLUMN d INT",
        "ALTER TABLE t DROP PRIMARY KEY",
        "ALTER TABLE t DROP CONSTRAINT IF",
        "ALTER TABLE",
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
        assert_int_equal(parse(real[i], &st, &e), 0);
        assert_int_equal(st.kind, 0);
        assert_null(st.db);
        assert_null(st.name);
        done(&st, &e);
    }
    /* DROP CONSTRAINT parses; cat_admin_recognise then relays it unless the
     * catalog holds an informational constraint of that name (none here) */
    assert_int_equal(parse("ALTER TABLE d.t DROP CONSTRAINT IF EXISTS `fk`", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_DROP_CONSTRAINT);
    assert_string_equal(st.db, "d");
    assert_string_equal(st.con_name, "fk");
    assert_true(st.if_exists);
    done(&st, &e);
    {
        struct cat_admin_job *job = NULL;
        const char *drop = "ALTER TABLE t DROP CONSTRAINT fk";
        const char *add = "ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY (a) NOT ENFORCED";
        const char *plain = "ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY (a)";
        mvp_reply_init(&e);
        assert_false(cat_admin_recognise(drop, strlen(drop), "db", &job, &e));
        assert_null(job);
        assert_false(cat_admin_recognise(plain, strlen(plain), "db", &job, &e));
        assert_null(job);
        assert_true(cat_admin_recognise(add, strlen(add), "db", &job, &e));
        assert_non_null(job);
        cat_admin_job_free(job);
    }
}

static void
test_starrocks_set(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    (void)state;
    assert_int_equal(parse("ALTER TABLE t SET (\"unique_constraints\" = \"a;b, c\", "
                           "\"foreign_key_constraints\" = \"(x) REFERENCES d.u(y); "
                           "(p, q) REFERENCES v(r, s)\")",
                           &st, &e),
                     1);
    assert_int_equal(st.kind, CAT_ST_SET_CONSTRAINTS);
    assert_true(st.set_unique);
    assert_true(st.set_foreign);
    assert_int_equal(st.n_cons, 4);
    assert_int_equal(st.cons[0].type, CAT_CON_UNIQUE);
    assert_string_equal(st.cons[0].name, "uk_1");
    assert_int_equal(st.cons[0].n_cols, 1);
    assert_string_equal(st.cons[1].name, "uk_2");
    assert_int_equal(st.cons[1].n_cols, 2);
    assert_string_equal(st.cons[1].cols[1], "c");
    assert_int_equal(st.cons[2].type, CAT_CON_FOREIGN);
    assert_string_equal(st.cons[2].name, "fk_1");
    assert_string_equal(st.cons[2].ref_db, "d");
    assert_string_equal(st.cons[2].ref_name, "u");
    assert_int_equal(st.cons[3].n_cols, 2);
    assert_null(st.cons[3].ref_db);
    assert_string_equal(st.cons[3].ref_cols[1], "s");
    done(&st, &e);

    /* StarRocks' long column form db.table.col keeps the column */
    assert_int_equal(parse("ALTER TABLE t SET ('unique_constraints' = 'd.t.a')", &st, &e), 1);
    assert_string_equal(st.cons[0].cols[0], "a");
    done(&st, &e);

    /* "" removes: no constraint, but the kind is replaced */
    assert_int_equal(parse("ALTER TABLE t SET (\"foreign_key_constraints\" = \"\")", &st, &e), 1);
    assert_int_equal(st.n_cons, 0);
    assert_true(st.set_foreign);
    assert_false(st.set_unique);
    done(&st, &e);

    assert_int_equal(parse("ALTER TABLE t SET (\"replication_num\" = \"1\")", &st, &e), -1);
    assert_int_equal(e.err_code, 1911);
    done(&st, &e);
    assert_int_equal(parse("ALTER TABLE t SET (\"foreign_key_constraints\" = \"(a) REF u(b)\")",
                           &st, &e),
                     -1);
    assert_int_equal(e.err_code, 1231);
    assert_non_null(strstr(e.err_msg, "foreign_key_constraints"));
    done(&st, &e);
    assert_int_equal(parse("ALTER TABLE t SET (\"unique_constraints\" = \"a b\")", &st, &e), -1);
    assert_int_equal(e.err_code, 1231);
    done(&st, &e);
}

static void
test_show_constraints(void **state)
{
    struct cat_stmt st;
    struct mvp_reply e;
    (void)state;
    assert_int_equal(parse("SHOW CONSTRAINTS FROM db1.lineitem", &st, &e), 1);
    assert_int_equal(st.kind, CAT_ST_SHOW_CONSTRAINTS);
    assert_string_equal(st.db, "db1");
    assert_string_equal(st.name, "lineitem");
    done(&st, &e);
    assert_int_equal(parse("SHOW CONSTRAINTS lineitem", &st, &e), -1);
    done(&st, &e);
}

/* The snapshot's informational constraints join the tables' key lists. */
static void
test_merge(void **state)
{
    struct cat_snapshot snap;
    struct cat_table *t = calloc(1, sizeof(*t));
    struct cat_icon *ic = calloc(3, sizeof(*ic));
    static const char *const cols[] = {"a", "b"};
    size_t i;
    (void)state;
    memset(&snap, 0, sizeof(snap));
    t->key = strdup("d.t");
    t->db = strdup("d");
    t->name = strdup("t");
    t->n_cols = 2;
    t->cols = calloc(2, sizeof(*t->cols));
    for (i = 0; i < 2; i++) {
        t->cols[i].name = strdup(cols[i]);
        t->cols[i].data_type = strdup("int");
        t->cols[i].column_type = strdup("int(11)");
    }
    HASH_ADD_KEYPTR(hh, snap.tables, t->key, strlen(t->key), t);
    /* a unique key on a, a foreign key b -> d.u(x), one on a dropped column z */
    for (i = 0; i < 3; i++) {
        ic[i].table_key = strdup("d.t");
        ic[i].key.n_cols = 1;
        ic[i].key.cols = calloc(1, sizeof(char *));
        ic[i].key.informational = true;
    }
    ic[0].name = strdup("uk");
    ic[0].type = CAT_CON_UNIQUE;
    ic[0].key.cols[0] = strdup("a");
    ic[0].key.name = strdup("uk");
    ic[1].name = strdup("fk");
    ic[1].type = CAT_CON_FOREIGN;
    ic[1].key.cols[0] = strdup("b");
    ic[1].key.name = strdup("fk");
    ic[1].key.ref_key = strdup("d.u");
    ic[1].key.ref_cols = calloc(1, sizeof(char *));
    ic[1].key.ref_cols[0] = strdup("x");
    ic[2].name = strdup("gone");
    ic[2].type = CAT_CON_UNIQUE;
    ic[2].key.cols[0] = strdup("z");
    ic[2].key.name = strdup("gone");
    snap.icons = ic;
    snap.n_icons = 3;
    cat_icons_merge(&snap);
    assert_int_equal(t->n_ukeys, 1);
    assert_true(t->ukeys[0].informational);
    assert_string_equal(t->ukeys[0].name, "uk");
    assert_int_equal(t->n_fkeys, 1);
    assert_string_equal(t->fkeys[0].ref_key, "d.u");
    assert_string_equal(t->fkeys[0].ref_cols[0], "x");
    assert_non_null(cat_icon_find(&snap, "D", "T", "FK"));
    assert_null(cat_icon_find(&snap, "d", "t", "nope"));
    assert_null(cat_icon_find(&snap, "d", "u", "fk"));
    /* free what a snapshot owns */
    HASH_DEL(snap.tables, t);
    cat_table_free(t);
    cat_icons_free(snap.icons, snap.n_icons);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_constraint), cmocka_unit_test(test_relayed_alter),
        cmocka_unit_test(test_starrocks_set), cmocka_unit_test(test_show_constraints),
        cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
