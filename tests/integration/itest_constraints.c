/*
 * itest_constraints.c - informational constraints through the real mvproxy:
 * ALTER TABLE ... ADD CONSTRAINT ... NOT ENFORCED (errors 1046, 1054, 1060,
 * 1064, 1068, 1142, 1146, 1239, 1822, 1826 with nothing recorded), StarRocks
 * SET properties, SHOW CONSTRAINTS (real keys ENFORCED, informational NOT
 * ENFORCED), the same statements without NOT ENFORCED relayed to MariaDB
 * untouched, a join elimination that relies on them (EXPLAIN REWRITE says
 * so), persistence across a proxy restart, and DROP CONSTRAINT.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_common.h"

#define DB "itcon"
#define META "mvp_meta_itcon"

static struct it_env env;
static struct it_proxy proxy;

/* A proxy connection as USER/PW in DB (fails the test when refused). */
#define px(user, pw, db) it_must_connect_proxy_as(&proxy, (user), (pw), (db), CLIENT_MULTI_RESULTS)

/* Run SQL on M, expecting error CODE (0 = success). */
#define expect(m, sql, code) it_expect_errno((m), (sql), (code))

/* The rows of SQL on M as one string (rows joined by '\n'; static buffer). */
static const char *
rows_text(MYSQL *m, const char *sql)
{
    static char buf[8192];
    struct it_rows r;
    size_t i, off = 0;
    unsigned e = it_query_rows(m, sql, &r);
    if (e != 0) {
        fail_msg("%s: %s", sql, mysql_error(m));
    }
    buf[0] = '\0';
    for (i = 0; i < r.n && off < sizeof(buf) - 1; i++) {
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s\n", r.rows[i]);
    }
    it_rows_free(&r);
    return buf;
}

/* EXPLAIN REWRITE QUERY: the summary row's status and reason into SUMMARY and
 * REASON; asserts the CHOSEN row's reason is empty (SPEC §8). */
static void
explain(MYSQL *m, const char *query, char *summary, size_t slen, char *reason, size_t rlen)
{
    MYSQL_RES *res = it_explain_rewrite(m, query);
    MYSQL_ROW row;
    summary[0] = reason[0] = '\0';
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] == NULL) {
            snprintf(summary, slen, "%s", row[1]);
            snprintf(reason, rlen, "%s", row[2] ? row[2] : "");
        } else if (strcmp(row[1], "CHOSEN") == 0) {
            /* SPEC §8: empty for CHOSEN (what it trusted is on the summary row) */
            assert_string_equal(row[2] ? row[2] : "", "");
        } else {
            fprintf(stderr, "  %s %s %s\n", row[0], row[1], row[2] ? row[2] : "");
        }
    }
    mysql_free_result(res);
}

static int
setup(void **state)
{
    MYSQL *d;
    (void)state;
    it_env_load(&env);
    if (it_reset_dbs(&env, DB, META, true) != 0 || (d = it_connect_direct(&env, NULL, 0)) == NULL) {
        return -1;
    }
    it_exec(d, "CREATE TABLE " DB ".prods (pid INT NOT NULL, pname VARCHAR(20) NOT NULL)");
    it_exec(d, "CREATE TABLE " DB ".lits (lid INT NOT NULL, pid INT NOT NULL, qty INT NOT NULL, "
               "opt INT NULL)");
    it_exec(d, "CREATE TABLE " DB ".rp (id INT PRIMARY KEY, v INT)");
    it_exec(d, "CREATE TABLE " DB ".rl (id INT NOT NULL, rid INT NOT NULL) ENGINE=InnoDB");
    it_exec(d, "INSERT INTO " DB ".prods VALUES (1,'a'),(2,'b'),(3,'c')");
    it_exec(d, "INSERT INTO " DB ".lits VALUES (1,1,5,NULL),(2,1,6,1),(3,2,7,2),(4,3,8,NULL)");
    it_exec(d, "INSERT INTO " DB ".rp VALUES (1,1),(2,2)");
    it_exec(d, "INSERT INTO " DB ".rl VALUES (1,1),(2,2)");
    it_exec(d, "GRANT SELECT ON " DB ".* TO 'app'@'%'");
    it_exec(d, "GRANT SELECT ON " DB ".* TO 'app'@'127.0.0.1'");
    mysql_close(d);
    return it_proxy_start(&proxy, &env, META, NULL);
}

static int
teardown(void **state)
{
    MYSQL *d;
    (void)state;
    d = it_connect_direct(&env, NULL, 0);
    if (d != NULL) {
        it_exec(d, "REVOKE SELECT ON " DB ".* FROM 'app'@'%'");
        it_exec(d, "REVOKE SELECT ON " DB ".* FROM 'app'@'127.0.0.1'");
        mysql_close(d);
    }
    return it_teardown(&proxy, &env, DB, META, NULL);
}

/* Every bad declaration is refused with the MySQL error a DBA expects, and records nothing. */
static void
test_errors(void **state)
{
    MYSQL *m = px(env.db_user, env.db_password, DB), *nodb, *app;
    (void)state;
    expect(m, "ALTER TABLE nosuch ADD CONSTRAINT pk PRIMARY KEY (a) NOT ENFORCED", 1146);
    expect(m, "ALTER TABLE prods ADD CONSTRAINT pk PRIMARY KEY (nope) NOT ENFORCED", 1054);
    expect(m, "ALTER TABLE prods ADD CONSTRAINT pk PRIMARY KEY (pid, PID) NOT ENFORCED", 1060);
    expect(m, "ALTER TABLE prods ADD CONSTRAINT pk PRIMARY KEY pid NOT ENFORCED", 1064);
    expect(m, "ALTER TABLE prods ADD CONSTRAINT ck CHECK (pid > 0) NOT ENFORCED", 1064);
    expect(m, "ALTER TABLE prods SET (\"unique_constraints\" = \"pid pname\")", 1231);
    expect(m, "ALTER TABLE prods SET (\"unique_constraint\" = \"pid\")", 1911);
    /* the referenced columns must carry a unique key (none declared yet) */
    expect(m, "ALTER TABLE lits ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES prods (pid) "
              "NOT ENFORCED",
           1822);
    expect(m, "ALTER TABLE prods ADD CONSTRAINT pk PRIMARY KEY (pid) NOT ENFORCED", 0);
    expect(m, "ALTER TABLE prods ADD CONSTRAINT pk UNIQUE (pname) NOT ENFORCED", 1826);
    expect(m, "ALTER TABLE prods ADD CONSTRAINT pk2 PRIMARY KEY (pname) NOT ENFORCED", 1068);
    expect(m, "ALTER TABLE rp ADD CONSTRAINT pk2 PRIMARY KEY (v) NOT ENFORCED", 1068);
    expect(m, "ALTER TABLE rp ADD CONSTRAINT `PRIMARY` UNIQUE (v) NOT ENFORCED", 1826);
    expect(m, "ALTER TABLE lits ADD CONSTRAINT fk FOREIGN KEY (pid, qty) REFERENCES prods (pid) "
              "NOT ENFORCED",
           1239);
    expect(m, "ALTER TABLE lits ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES nosuch (pid) "
              "NOT ENFORCED",
           1146);
    expect(m, "ALTER TABLE lits ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES prods (x) "
              "NOT ENFORCED",
           1054);
    expect(m, "ALTER TABLE lits ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES prods (pname) "
              "NOT ENFORCED",
           1822);
    /* an informational foreign key to a real primary key is fine */
    expect(m, "ALTER TABLE rl ADD CONSTRAINT fk_rl FOREIGN KEY (rid) REFERENCES " DB
              ".rp (id) NOT ENFORCED",
           0);
    /* no current database */
    nodb = px(env.db_user, env.db_password, NULL);
    expect(nodb, "ALTER TABLE prods ADD CONSTRAINT u UNIQUE (pname) NOT ENFORCED", 1046);
    expect(nodb, "SHOW CONSTRAINTS FROM " DB ".prods", 0);
    mysql_close(nodb);
    /* declaring changes everybody's answers: the ALTER privilege is needed */
    app = px("app", "app_pw", NULL);
    expect(app, "SELECT COUNT(*) FROM " DB ".prods", 0);
    expect(app, "ALTER TABLE " DB ".prods ADD CONSTRAINT u UNIQUE (pname) NOT ENFORCED", 1142);
    expect(app, "ALTER TABLE " DB ".prods SET (\"unique_constraints\" = \"pname\")", 1142);
    mysql_close(app);

    /* what is recorded: pk on prods, fk_rl on rl; rp's real key shows ENFORCED */
    assert_string_equal(rows_text(m, "SHOW CONSTRAINTS FROM prods"),
                        "pk\tPRIMARY KEY\tPRIMARY KEY (pid) NOT ENFORCED\tNOT ENFORCED\n");
    assert_string_equal(rows_text(m, "SHOW CONSTRAINTS FROM " DB ".rp"),
                        "PRIMARY\tPRIMARY KEY\tPRIMARY KEY (id)\tENFORCED\n");
    assert_string_equal(rows_text(m, "SHOW CONSTRAINTS FROM rl"),
                        "fk_rl\tFOREIGN KEY\tFOREIGN KEY (rid) REFERENCES itcon.rp (id) NOT "
                        "ENFORCED\tNOT ENFORCED\n");
    expect(m, "SHOW CONSTRAINTS FROM nosuch", 1146);
    expect(m, "ALTER TABLE rl DROP CONSTRAINT fk_rl", 0);
    assert_string_equal(rows_text(m, "SHOW CONSTRAINTS FROM rl"), "");
    mysql_close(m);
}

/* Without NOT ENFORCED it is MariaDB DDL: relayed untouched, enforced by MariaDB. */
static void
test_relay_real_ddl(void **state)
{
    MYSQL *m = px(env.db_user, env.db_password, DB), *d = it_connect_direct(&env, DB, 0);
    (void)state;
    assert_non_null(d);
    expect(m, "ALTER TABLE rl ADD CONSTRAINT fk_real FOREIGN KEY (rid) REFERENCES rp (id)", 0);
    assert_string_equal(rows_text(d, "SELECT CONSTRAINT_NAME FROM information_schema."
                                     "TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = '" DB "' AND "
                                     "TABLE_NAME = 'rl'"),
                        "fk_real\n");
    /* MariaDB enforces it */
    expect(m, "INSERT INTO rl VALUES (3, 99)", 1452);
    assert_string_equal(rows_text(m, "SHOW CONSTRAINTS FROM rl"),
                        "fk_real\tFOREIGN KEY\tFOREIGN KEY (rid) REFERENCES itcon.rp (id)\t"
                        "ENFORCED\n");
    /* the catalog holds no informational fk_real: DROP CONSTRAINT goes to MariaDB */
    expect(m, "ALTER TABLE rl DROP CONSTRAINT fk_real", 0);
    assert_string_equal(rows_text(d, "SELECT CONSTRAINT_NAME FROM information_schema."
                                     "TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = '" DB "' AND "
                                     "TABLE_NAME = 'rl'"),
                        "");
    expect(m, "ALTER TABLE rl DROP CONSTRAINT no_such_constraint", 1091);
    expect(m, "ALTER TABLE rl ADD COLUMN extra INT NULL", 0);
    expect(d, "SELECT extra FROM rl", 0);
    mysql_close(d);
    mysql_close(m);
}

/* Join elimination trusts them, EXPLAIN REWRITE says so, a restart keeps them, DROP ends it. */
static void
test_rewrite_restart_drop(void **state)
{
    MYSQL *m = px(env.db_user, env.db_password, DB);
    const char *q = "SELECT lid, qty FROM lits WHERE qty > 5";
    char summary[64], reason[1024];
    struct it_rows a, b;
    MYSQL *d;
    (void)state;
    expect(m, "CREATE MATERIALIZED VIEW mv_lp BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL AS "
              "SELECT l.lid, l.pid, l.qty, p.pname FROM lits l JOIN prods p ON l.pid = p.pid",
           0);
    explain(m, q, summary, sizeof(summary), reason, sizeof(reason));
    assert_string_equal(summary, "NOT_REWRITTEN"); /* prods has pk (test_errors), no fk yet */
    expect(m, "ALTER TABLE lits SET (\"foreign_key_constraints\" = \"(pid) REFERENCES "
              "prods(pid)\")",
           0);
    explain(m, q, summary, sizeof(summary), reason, sizeof(reason));
    assert_string_equal(summary, "REWRITTEN");
    if (strstr(reason, "informational constraints fk_1, pk (NOT ENFORCED") == NULL) {
        fail_msg("summary reason: %s", reason);
    }
    mysql_close(m);

    /* a restarted proxy reads them back from the metadata schema */
    assert_int_equal(it_proxy_stop(&proxy), 0);
    assert_int_equal(it_proxy_start(&proxy, &env, META, NULL), 0);
    m = px(env.db_user, env.db_password, DB);
    assert_string_equal(rows_text(m, "SHOW CONSTRAINTS FROM lits"),
                        "fk_1\tFOREIGN KEY\tFOREIGN KEY (pid) REFERENCES itcon.prods (pid) NOT "
                        "ENFORCED\tNOT ENFORCED\n");
    explain(m, q, summary, sizeof(summary), reason, sizeof(reason));
    assert_string_equal(summary, "REWRITTEN");
    d = it_connect_direct(&env, DB, 0);
    assert_non_null(d);
    assert_int_equal(it_query_rows(m, q, &a), 0);
    assert_int_equal(it_query_rows(d, q, &b), 0);
    assert_true(it_rows_equal(&a, &b));
    it_rows_free(&a);
    it_rows_free(&b);
    mysql_close(d);

    /* the FK column must be NOT NULL: opt is nullable */
    expect(m, "ALTER TABLE lits ADD CONSTRAINT fk_opt FOREIGN KEY (opt) REFERENCES prods (pid) "
              "NOT ENFORCED",
           0);
    expect(m, "CREATE MATERIALIZED VIEW mv_lo BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL AS "
              "SELECT l.lid, l.qty FROM lits l JOIN prods p ON l.opt = p.pid",
           0);
    explain(m, "SELECT /*+ USE_MV(mv_lo) */ lid FROM lits", summary, sizeof(summary), reason,
            sizeof(reason));
    assert_string_equal(summary, "NOT_REWRITTEN");

    /* DROP CONSTRAINT of the informational key: the proxy's; the rewrite stops */
    expect(m, "ALTER TABLE lits DROP CONSTRAINT fk_1", 0);
    explain(m, q, summary, sizeof(summary), reason, sizeof(reason));
    assert_string_equal(summary, "NOT_REWRITTEN");
    expect(m, "ALTER TABLE lits DROP CONSTRAINT fk_1", 1091); /* now relayed: MariaDB's error */
    expect(m, "DROP MATERIALIZED VIEW mv_lp", 0);
    expect(m, "DROP MATERIALIZED VIEW mv_lo", 0);
    mysql_close(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_relay_real_ddl),
        cmocka_unit_test(test_rewrite_restart_drop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
