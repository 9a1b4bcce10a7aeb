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

#endif /* IT_COMMON_H */
