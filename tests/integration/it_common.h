/*
 * it_common.h - helpers shared by the integration tests (tests/integration/
 * itest_*.c): the environment scripts/test.sh sets, starting and stopping a
 * real mvproxy child process, libmariadb connections to the proxy or
 * directly to the private MariaDB, canonical row multisets to compare the
 * two, and a runner for the `mariadb` command-line client.
 *
 * Environment: MVP_DB_HOST (default 127.0.0.1), MVP_DB_PORT (required: a
 * test fails loudly without it), MVP_DB_USER (default root),
 * MVP_DB_PASSWORD (default ""), MVP_PROXY_BIN (default
 * $MVP_BUILD_DIR/mvproxy, else ./mvproxy), MVP_BUILD_DIR.
 */
#ifndef IT_COMMON_H
#define IT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mysql.h>

struct it_env {
    const char *db_host;            /* private MariaDB host */
    unsigned db_port;               /* its port */
    const char *db_user;            /* admin user (root) */
    const char *db_password;        /* its password ("" by default) */
    const char *proxy_bin;          /* path of the mvproxy binary */
    const char *build_dir;          /* MVP_BUILD_DIR or NULL */
};

/*
 * Read the environment into ENV (strings borrowed from environ). Prints a
 * message and exits 1 when MVP_DB_PORT is unset or the proxy binary is not
 * executable: an integration test must never skip silently.
 */
void it_env_load(struct it_env *env);

struct it_proxy {
    pid_t pid;                      /* child pid, 0 when not running */
    unsigned port;                  /* its listen port */
    char log_path[256];             /* its stderr goes here */
};

/* A TCP port on 127.0.0.1 that was free a moment ago. */
unsigned it_free_port(void);

/*
 * Start mvproxy as a child on a free port with --listen, --backend (ENV's
 * MariaDB), --service-user mvproxy --service-password mvproxy, --meta-schema
 * META_SCHEMA, --threads 2, plus EXTRA_ARGS (NULL-terminated list or NULL),
 * and wait (up to 20 s) until it accepts connections. Stderr goes to
 * P->log_path. Returns 0, or -1 (message printed, log tail shown).
 */
int it_proxy_start(struct it_proxy *p, const struct it_env *env, const char *meta_schema,
                   const char *const *extra_args);

/*
 * The usual group setup's end: it_proxy_start(P, ENV, META_SCHEMA,
 * EXTRA_ARGS), then run SQL (e.g. a CREATE MATERIALIZED VIEW) through it in
 * database DB. Returns 0, or -1 (message and proxy log tail printed).
 */
int it_proxy_start_exec(struct it_proxy *p, const struct it_env *env, const char *meta_schema,
                        const char *const *extra_args, const char *db, const char *sql);

/* True while the proxy child is running (reaps it if it died). */
bool it_proxy_alive(struct it_proxy *p);

/*
 * Stop the proxy with SIGTERM and reap it (SIGKILL after 15 s). Returns its
 * exit status (0..255), 128+signal when killed by a signal, -1 when it was
 * not running.
 */
int it_proxy_stop(struct it_proxy *p);

/* Print the last LINES lines of the proxy's log to stderr (debugging aid). */
void it_proxy_log_tail(const struct it_proxy *p, int lines);

/*
 * Connect with libmariadb to HOST:PORT as USER/PASS, default database DB
 * (may be NULL), client FLAGS (e.g. CLIENT_MULTI_STATEMENTS). Returns the
 * handle (mysql_close() it) or NULL; on NULL, ERRBUF (may be NULL, 512
 * bytes) gets "errno: message" and *ERRNO_OUT (may be NULL) the error code.
 */
MYSQL *it_connect(const char *host, unsigned port, const char *user, const char *pass,
                  const char *db, unsigned long flags, char *errbuf, unsigned *errno_out);

/* it_connect() to the proxy P as ENV's admin user. */
MYSQL *it_connect_proxy(const struct it_proxy *p, const struct it_env *env, const char *db,
                        unsigned long flags);

/* it_connect() straight to ENV's MariaDB as its admin user. */
MYSQL *it_connect_direct(const struct it_env *env, const char *db, unsigned long flags);

/* A result as a canonical multiset: each row one string, rows sorted. */
struct it_rows {
    size_t n;                       /* rows */
    char **rows;                    /* owned; fields joined by '\t', NULL as "\N",
                                       '\t' '\n' '\\' in values escaped with '\\' */
    unsigned n_cols;                /* columns of the (last) result set */
    unsigned long long affected;    /* affected rows when there was no result set */
};

/*
 * Run SQL on M and fetch every row of every result set into OUT (caller
 * frees with it_rows_free()). Returns 0, or the MySQL error number (OUT then
 * empty; mysql_error(M) has the message).
 */
unsigned it_query_rows(MYSQL *m, const char *sql, struct it_rows *out);

/* True when A and B hold the same rows (as multisets). */
bool it_rows_equal(const struct it_rows *a, const struct it_rows *b);

/* Print up to MAX rows of R to stderr with a LABEL (debugging aid). */
void it_rows_dump(const char *label, const struct it_rows *r, size_t max);

/* Free R's rows and zero it. */
void it_rows_free(struct it_rows *r);

/*
 * Run SQL on M, discarding results; returns 0 or the MySQL error number.
 * Prints the error to stderr when it fails.
 */
unsigned it_exec(MYSQL *m, const char *sql);

/*
 * Run the `mariadb` client: mariadb --no-defaults -h127.0.0.1 -P<PORT>
 * -u<USER> [-p<PASS>] -N -B -e SQL. *OUT (may be NULL) gets its stdout and
 * stderr (owned, NUL-terminated). Returns the client's exit status or -1.
 */
int it_cli(unsigned port, const char *user, const char *pass, const char *sql, char **out);

/* ---- helpers for cmocka test bodies ------------------------------------
 * The functions below end the running cmocka test (fail_msg) instead of
 * returning an error; use them in tests and in group setup/teardown of
 * tests/integration/itest_*.c only (every program linking it_common.c
 * links cmocka).
 */

/* Milliseconds of CLOCK_MONOTONIC (for deadlines of polling loops). */
int64_t it_mono_ms(void);

/* Sleep MS milliseconds. */
void it_sleep_ms(long ms);

/* Run SQL on M (results discarded); fail the test with the SQL and the
 * server's message when it fails. */
void it_exec_ok(MYSQL *m, const char *sql);

/* it_connect_proxy() that fails the test (proxy log tail shown) instead of
 * returning NULL. The caller mysql_close()s the handle. */
MYSQL *it_must_connect_proxy(const struct it_proxy *p, const struct it_env *env, const char *db,
                             unsigned long flags);

/* it_connect_direct() that fails the test instead of returning NULL. */
MYSQL *it_must_connect_direct(const struct it_env *env, const char *db, unsigned long flags);

/* it_connect() to the proxy P as USER/PASS (default database DB, may be
 * NULL; client FLAGS) that fails the test (proxy log tail shown) instead of
 * returning NULL. The caller mysql_close()s the handle. */
MYSQL *it_must_connect_proxy_as(const struct it_proxy *p, const char *user, const char *pass,
                                const char *db, unsigned long flags);

/* Run SQL on M (every result fetched and dropped) and fail the test unless
 * it ends with MySQL error CODE (0 = success). */
void it_expect_errno(MYSQL *m, const char *sql, unsigned code);

/*
 * Run EXPLAIN REWRITE QUERY on M (a proxy connection) and return its stored
 * result (caller mysql_free_result()s it): the summary row has mv_name
 * NULL, then one row per candidate view. Fails the test on an error.
 */
MYSQL_RES *it_explain_rewrite(MYSQL *m, const char *query);

/*
 * The first column of the first row of SQL on M into BUF (LEN bytes, "" when
 * there is no row or the value is NULL). Returns 0, or the MySQL error
 * number (BUF ""; the error is printed) -- it does not fail the test.
 */
unsigned it_first_value(MYSQL *m, const char *sql, char *buf, size_t len);

/*
 * SHOW PARTITIONS FROM VIEW through P: the comma list of the partitions not
 * in sync with their base tables (p_null aside) into STALE (SLEN bytes).
 * Fails the test when SHOW PARTITIONS fails.
 */
void it_stale_partitions(MYSQL *p, const char *view, char *stale, size_t slen);

/*
 * Poll it_stale_partitions every 50 ms for up to WITHIN_MS until the list is
 * WANT. True when it was; false (with both lists printed) otherwise.
 */
bool it_wait_stale_partitions(MYSQL *p, const char *view, const char *want, int within_ms);

/*
 * Straight on ENV's MariaDB: drop the databases META and DB (either may be
 * NULL) and, when CREATE, create DB again empty. Returns 0, or -1 when the
 * connection or the CREATE failed (message printed). For setup/teardown.
 */
int it_reset_dbs(const struct it_env *env, const char *db, const char *meta, bool create);

/*
 * The usual group teardown: when the proxy P runs, drop the views VIEWS
 * (NULL-terminated names in DB, may be NULL) through it and stop it; then
 * drop DB and META straight on MariaDB. Always returns 0.
 */
int it_teardown(struct it_proxy *p, const struct it_env *env, const char *db, const char *meta,
                const char *const *views);

/*
 * Index of the result column named NAME (case-insensitive) in R, or -1.
 * Tests read columns such as SHOW MATERIALIZED VIEWS' FreshnessSource by
 * name, so a column added later does not move them.
 */
int it_field_index(MYSQL_RES *r, const char *name);

#endif /* IT_COMMON_H */
