/*
 * it_common.c - shared integration-test helpers (see it_common.h): proxy
 * child process management, libmariadb helpers, canonical row multisets and
 * the mariadb CLI runner.
 */
#include "it_common.h"

#include <setjmp.h>
#include <stdarg.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void
it_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int64_t
it_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
it_env_load(struct it_env *env)
{
    static char bin[1024];
    const char *port = getenv("MVP_DB_PORT");
    const char *b;

    memset(env, 0, sizeof(*env));
    if (port == NULL || atoi(port) <= 0) {
        fprintf(stderr, "FATAL: MVP_DB_PORT is not set: start the private MariaDB "
                        "(scripts/mariadb.sh start) and export its env (scripts/test.sh does)\n");
        exit(1);
    }
    env->db_port = (unsigned)atoi(port);
    env->db_host = getenv("MVP_DB_HOST") ? getenv("MVP_DB_HOST") : "127.0.0.1";
    env->db_user = getenv("MVP_DB_USER") ? getenv("MVP_DB_USER") : "root";
    env->db_password = getenv("MVP_DB_PASSWORD") ? getenv("MVP_DB_PASSWORD") : "";
    env->build_dir = getenv("MVP_BUILD_DIR");
    b = getenv("MVP_PROXY_BIN");
    if (b == NULL) {
        snprintf(bin, sizeof(bin), "%s/mvproxy", env->build_dir ? env->build_dir : ".");
        b = bin;
    }
    env->proxy_bin = b;
    if (access(env->proxy_bin, X_OK) != 0) {
        fprintf(stderr, "FATAL: proxy binary '%s' is not executable (set MVP_PROXY_BIN)\n",
                env->proxy_bin);
        exit(1);
    }
}

unsigned
it_free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    unsigned port = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        return 0;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
        port = ntohs(sa.sin_port);
    }
    close(fd);
    return port;
}

/* Can we open a TCP connection to 127.0.0.1:PORT? */
static bool
port_accepts(unsigned port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok;

    if (fd < 0) {
        return false;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

void
it_proxy_log_tail(const struct it_proxy *p, int lines)
{
    char cmd[400];

    snprintf(cmd, sizeof(cmd), "tail -n %d '%s' >&2", lines, p->log_path);
    if (system(cmd) != 0) {
        fprintf(stderr, "(no proxy log at %s)\n", p->log_path);
    }
}

/* Every proxy child started, so that one a failed test left running (cmocka's
 * fail_msg jumps past the test's own it_proxy_stop) is stopped at exit. */
static pid_t g_children[256];
static size_t g_n_children;

/* atexit: stop each child still running (waitpid only sees our own children). */
static void
stop_leftover_children(void)
{
    size_t i;
    int st;
    for (i = 0; i < g_n_children; i++) {
        if (waitpid(g_children[i], &st, WNOHANG) == 0) {
            kill(g_children[i], SIGKILL);
            waitpid(g_children[i], &st, 0);
        }
    }
}

/* Remember child PID for stop_leftover_children. */
static void
note_child(pid_t pid)
{
    if (g_n_children == 0) {
        atexit(stop_leftover_children);
    }
    if (g_n_children < sizeof(g_children) / sizeof(g_children[0])) {
        g_children[g_n_children++] = pid;
    }
}

int
it_proxy_start(struct it_proxy *p, const struct it_env *env, const char *meta_schema,
               const char *const *extra_args)
{
    char listen[64], backend[300], threads[] = "2";
    const char *argv[64];
    int argc = 0, i, fd, attempt;

    memset(p, 0, sizeof(*p));
    for (attempt = 0; attempt < 3; attempt++) {
        p->port = it_free_port();
        snprintf(listen, sizeof(listen), "127.0.0.1:%u", p->port);
        snprintf(backend, sizeof(backend), "%s:%u", env->db_host, env->db_port);
        snprintf(p->log_path, sizeof(p->log_path), "/tmp/mvproxy-it-%d-%u.log", (int)getpid(),
                 p->port);
        argc = 0;
        argv[argc++] = env->proxy_bin;
        argv[argc++] = "--listen";
        argv[argc++] = listen;
        argv[argc++] = "--backend";
        argv[argc++] = backend;
        argv[argc++] = "--service-user";
        argv[argc++] = "mvproxy";
        argv[argc++] = "--service-password";
        argv[argc++] = "mvproxy";
        argv[argc++] = "--meta-schema";
        argv[argc++] = meta_schema;
        argv[argc++] = "--threads";
        argv[argc++] = threads;
        for (i = 0; extra_args != NULL && extra_args[i] != NULL && argc < 63; i++) {
            argv[argc++] = extra_args[i];
        }
        argv[argc] = NULL;
        p->pid = fork();
        if (p->pid < 0) {
            perror("fork");
            p->pid = 0;
            return -1;
        }
        if (p->pid == 0) {
            fd = open(p->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, STDERR_FILENO);
                dup2(fd, STDOUT_FILENO);
                close(fd);
            }
            execv(env->proxy_bin, (char *const *)argv);
            _exit(127);
        }
        note_child(p->pid);
        for (i = 0; i < 400; i++) {
            if (!it_proxy_alive(p)) {
                break;
            }
            if (port_accepts(p->port)) {
                return 0;
            }
            it_sleep_ms(50);
        }
        if (it_proxy_alive(p)) {
            fprintf(stderr, "it_proxy_start: proxy did not accept on port %u within 20 s\n",
                    p->port);
            it_proxy_log_tail(p, 20);
            it_proxy_stop(p);
            return -1;
        }
        /* It exited: maybe the port was taken between probe and bind; retry. */
        fprintf(stderr, "it_proxy_start: proxy exited during start (attempt %d):\n", attempt + 1);
        it_proxy_log_tail(p, 10);
    }
    return -1;
}

int
it_proxy_start_exec(struct it_proxy *p, const struct it_env *env, const char *meta_schema,
                    const char *const *extra_args, const char *db, const char *sql)
{
    MYSQL *m;
    unsigned rc;

    if (it_proxy_start(p, env, meta_schema, extra_args) < 0) {
        return -1;
    }
    m = it_connect_proxy(p, env, db, 0);
    if (m == NULL) {
        return -1;
    }
    rc = it_exec(m, sql);
    mysql_close(m);
    if (rc != 0) {
        it_proxy_log_tail(p, 30);
        return -1;
    }
    return 0;
}

bool
it_proxy_alive(struct it_proxy *p)
{
    int st;

    if (p->pid <= 0) {
        return false;
    }
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
        p->pid = 0;
        return false;
    }
    return true;
}

int
it_proxy_stop(struct it_proxy *p)
{
    int st, i;
    pid_t r;

    if (p->pid <= 0) {
        return -1;
    }
    kill(p->pid, SIGTERM);
    for (i = 0; i < 300; i++) {
        r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            if (WIFEXITED(st)) {
                return WEXITSTATUS(st);
            }
            return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
        }
        it_sleep_ms(50);
    }
    fprintf(stderr, "it_proxy_stop: proxy did not stop within 15 s; killing it\n");
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &st, 0);
    p->pid = 0;
    return 128 + SIGKILL;
}

MYSQL *
it_connect(const char *host, unsigned port, const char *user, const char *pass, const char *db,
           unsigned long flags, char *errbuf, unsigned *errno_out)
{
    MYSQL *m = mysql_init(NULL);
    unsigned timeout = 30;

    if (m == NULL) {
        return NULL;
    }
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
    if (mysql_real_connect(m, host, user, pass, db, port, NULL, flags) == NULL) {
        if (errbuf != NULL) {
            snprintf(errbuf, 512, "%u: %s", mysql_errno(m), mysql_error(m));
        }
        if (errno_out != NULL) {
            *errno_out = mysql_errno(m);
        }
        mysql_close(m);
        return NULL;
    }
    return m;
}

MYSQL *
it_connect_proxy(const struct it_proxy *p, const struct it_env *env, const char *db,
                 unsigned long flags)
{
    char err[512];
    MYSQL *m = it_connect("127.0.0.1", p->port, env->db_user, env->db_password, db, flags, err,
                          NULL);

    if (m == NULL) {
        fprintf(stderr, "connect to proxy port %u failed: %s\n", p->port, err);
    }
    return m;
}

MYSQL *
it_connect_direct(const struct it_env *env, const char *db, unsigned long flags)
{
    char err[512];
    MYSQL *m = it_connect(env->db_host, env->db_port, env->db_user, env->db_password, db, flags,
                          err, NULL);

    if (m == NULL) {
        fprintf(stderr, "direct connect to %s:%u failed: %s\n", env->db_host, env->db_port, err);
    }
    return m;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Serialise ROW (N fields, LENS) canonically into a new string. */
static char *
row_string(MYSQL_ROW row, unsigned long *lens, unsigned n)
{
    size_t cap = 16, len = 0, need;
    unsigned i;
    unsigned long j;
    char *s = malloc(cap);

    for (i = 0; i < n; i++) {
        need = (row[i] ? lens[i] * 2 : 2) + 2;
        if (len + need + 1 > cap) {
            while (len + need + 1 > cap) {
                cap *= 2;
            }
            s = realloc(s, cap);
        }
        if (i > 0) {
            s[len++] = '\t';
        }
        if (row[i] == NULL) {
            s[len++] = '\\';
            s[len++] = 'N';
            continue;
        }
        for (j = 0; j < lens[i]; j++) {
            char c = row[i][j];
            if (c == '\t' || c == '\n' || c == '\\') {
                s[len++] = '\\';
                c = c == '\t' ? 't' : c == '\n' ? 'n' : '\\';
            }
            s[len++] = c;
        }
    }
    s[len] = '\0';
    return s;
}

unsigned
it_query_rows(MYSQL *m, const char *sql, struct it_rows *out)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    size_t cap = 0;
    int st;

    memset(out, 0, sizeof(*out));
    if (mysql_real_query(m, sql, strlen(sql)) != 0) {
        return mysql_errno(m);
    }
    do {
        res = mysql_store_result(m);
        if (res != NULL) {
            out->n_cols = mysql_num_fields(res);
            while ((row = mysql_fetch_row(res)) != NULL) {
                if (out->n == cap) {
                    cap = cap ? cap * 2 : 64;
                    out->rows = realloc(out->rows, cap * sizeof(*out->rows));
                }
                out->rows[out->n++] = row_string(row, mysql_fetch_lengths(res), out->n_cols);
            }
            mysql_free_result(res);
        } else if (mysql_field_count(m) == 0) {
            out->affected = mysql_affected_rows(m);
        } else {
            unsigned e = mysql_errno(m);
            it_rows_free(out);
            return e;
        }
        st = mysql_next_result(m);
        if (st > 0) {
            unsigned e = mysql_errno(m);
            it_rows_free(out);
            return e;
        }
    } while (st == 0);
    if (out->n > 1) {
        qsort(out->rows, out->n, sizeof(*out->rows), cmp_str);
    }
    return 0;
}

bool
it_rows_equal(const struct it_rows *a, const struct it_rows *b)
{
    size_t i;

    if (a->n != b->n) {
        return false;
    }
    for (i = 0; i < a->n; i++) {
        if (strcmp(a->rows[i], b->rows[i]) != 0) {
            return false;
        }
    }
    return true;
}

void
it_rows_dump(const char *label, const struct it_rows *r, size_t max)
{
    size_t i;

    fprintf(stderr, "%s: %zu rows\n", label, r->n);
    for (i = 0; i < r->n && i < max; i++) {
        fprintf(stderr, "  %s\n", r->rows[i]);
    }
}

void
it_rows_free(struct it_rows *r)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        free(r->rows[i]);
    }
    free(r->rows);
    memset(r, 0, sizeof(*r));
}

unsigned
it_exec(MYSQL *m, const char *sql)
{
    struct it_rows r;
    unsigned e = it_query_rows(m, sql, &r);

    if (e != 0) {
        fprintf(stderr, "it_exec failed (%u: %s): %.200s\n", e, mysql_error(m), sql);
    }
    it_rows_free(&r);
    return e;
}

int
it_cli(unsigned port, const char *user, const char *pass, const char *sql, char **out)
{
    char path[] = "/tmp/mvp-it-cli-XXXXXX";
    char portarg[32], userarg[160], passarg[160];
    int fd, st;
    pid_t pid;
    struct stat sb;
    FILE *f;

    fd = mkstemp(path);
    if (fd < 0) {
        return -1;
    }
    snprintf(portarg, sizeof(portarg), "-P%u", port);
    snprintf(userarg, sizeof(userarg), "-u%s", user);
    snprintf(passarg, sizeof(passarg), "-p%s", pass != NULL ? pass : "");
    pid = fork();
    if (pid < 0) {
        close(fd);
        unlink(path);
        return -1;
    }
    if (pid == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
        if (pass != NULL && pass[0] != '\0') {
            execlp("mariadb", "mariadb", "--no-defaults", "-h127.0.0.1", portarg, userarg,
                   passarg, "-N", "-B", "-e", sql, (char *)NULL);
        } else {
            execlp("mariadb", "mariadb", "--no-defaults", "-h127.0.0.1", portarg, userarg, "-N",
                   "-B", "-e", sql, (char *)NULL);
        }
        _exit(127);
    }
    close(fd);
    if (waitpid(pid, &st, 0) != pid) {
        unlink(path);
        return -1;
    }
    if (out != NULL) {
        *out = NULL;
        f = fopen(path, "r");
        if (f != NULL && fstat(fileno(f), &sb) == 0) {
            *out = calloc(1, (size_t)sb.st_size + 1);
            if (*out != NULL && sb.st_size > 0 &&
                fread(*out, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
                (*out)[0] = '\0';
            }
        }
        if (f != NULL) {
            fclose(f);
        }
    }
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- helpers for cmocka test bodies ---------------------------------- */

void
it_exec_ok(MYSQL *m, const char *sql)
{
    if (it_exec(m, sql) != 0) {
        fail_msg("%s: %s", sql, mysql_error(m));
    }
}

MYSQL *
it_must_connect_proxy(const struct it_proxy *p, const struct it_env *env, const char *db,
                      unsigned long flags)
{
    MYSQL *m = it_connect_proxy(p, env, db, flags);

    if (m == NULL) {
        it_proxy_log_tail(p, 30);
        fail_msg("cannot connect to the proxy on port %u", p->port);
    }
    return m;
}

MYSQL *
it_must_connect_proxy_as(const struct it_proxy *p, const char *user, const char *pass,
                         const char *db, unsigned long flags)
{
    char err[512];
    MYSQL *m = it_connect("127.0.0.1", p->port, user, pass, db, flags, err, NULL);

    if (m == NULL) {
        fprintf(stderr, "proxy connect as %s: %s\n", user, err);
        it_proxy_log_tail(p, 20);
        fail_msg("cannot connect to the proxy on port %u as %s", p->port, user);
    }
    return m;
}

void
it_expect_errno(MYSQL *m, const char *sql, unsigned code)
{
    struct it_rows r;
    unsigned e = it_query_rows(m, sql, &r);

    if (e != code) {
        fail_msg("%s -> %u (%s), want %u", sql, e, e ? mysql_error(m) : "ok", code);
    }
    it_rows_free(&r);
}

MYSQL_RES *
it_explain_rewrite(MYSQL *m, const char *query)
{
    char *sql = malloc(strlen(query) + sizeof("EXPLAIN REWRITE "));
    MYSQL_RES *res;

    assert_non_null(sql);
    strcpy(sql, "EXPLAIN REWRITE ");
    strcat(sql, query);
    if (mysql_query(m, sql) != 0) {
        fail_msg("%s: %s", sql, mysql_error(m));
    }
    free(sql);
    res = mysql_store_result(m);
    assert_non_null(res);
    return res;
}

MYSQL *
it_must_connect_direct(const struct it_env *env, const char *db, unsigned long flags)
{
    MYSQL *m = it_connect_direct(env, db, flags);

    if (m == NULL) {
        fail_msg("cannot connect to MariaDB on port %u", env->db_port);
    }
    return m;
}

unsigned
it_first_value(MYSQL *m, const char *sql, char *buf, size_t len)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    unsigned e;

    buf[0] = '\0';
    if (mysql_query(m, sql) != 0) {
        e = mysql_errno(m);
        fprintf(stderr, "%s: %s\n", sql, mysql_error(m));
        return e;
    }
    res = mysql_store_result(m);
    if (res != NULL) {
        row = mysql_fetch_row(res);
        if (row != NULL && row[0] != NULL) {
            snprintf(buf, len, "%s", row[0]);
        }
        mysql_free_result(res);
    }
    return 0;
}

int
it_reset_dbs(const struct it_env *env, const char *db, const char *meta, bool create)
{
    char sql[300];
    int rc = 0;
    MYSQL *d = it_connect_direct(env, NULL, 0);

    if (d == NULL) {
        return -1;
    }
    if (meta != NULL) {
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS `%s`", meta);
        it_exec(d, sql);
    }
    if (db != NULL) {
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS `%s`", db);
        it_exec(d, sql);
        if (create) {
            snprintf(sql, sizeof(sql), "CREATE DATABASE `%s`", db);
            rc = it_exec(d, sql) == 0 ? 0 : -1;
        }
    }
    mysql_close(d);
    return rc;
}

int
it_teardown(struct it_proxy *p, const struct it_env *env, const char *db, const char *meta,
            const char *const *views)
{
    char sql[300];
    size_t i;

    if (p->pid > 0) {
        MYSQL *m = views != NULL ? it_connect_proxy(p, env, db, 0) : NULL;
        if (m != NULL) {
            for (i = 0; views[i] != NULL; i++) {
                snprintf(sql, sizeof(sql), "DROP MATERIALIZED VIEW IF EXISTS `%s`", views[i]);
                it_exec(m, sql);
            }
            mysql_close(m);
        }
        it_proxy_stop(p);
    }
    it_reset_dbs(env, db, meta, false);
    return 0;
}

void
it_stale_partitions(MYSQL *p, const char *view, char *stale, size_t slen)
{
    char sql[256];
    MYSQL_RES *r;
    MYSQL_ROW row;
    size_t used = 0;
    stale[0] = '\0';
    snprintf(sql, sizeof(sql), "SHOW PARTITIONS FROM %s", view);
    if (mysql_query(p, sql) != 0) {
        fail_msg("SHOW PARTITIONS: %s", mysql_error(p));
    }
    r = mysql_store_result(p);
    assert_non_null(r);
    while ((row = mysql_fetch_row(r)) != NULL) {
        if (strcmp(row[0], "p_null") != 0 && strcmp(row[2], "true") != 0) {
            used += (size_t)snprintf(stale + used, used < slen ? slen - used : 0, "%s%s",
                                     used > 0 ? "," : "", row[0]);
        }
    }
    mysql_free_result(r);
}

bool
it_wait_stale_partitions(MYSQL *p, const char *view, const char *want, int within_ms)
{
    char stale[4096];
    int64_t end = it_mono_ms() + within_ms;
    for (;;) {
        it_stale_partitions(p, view, stale, sizeof(stale));
        if (strcmp(stale, want) == 0) {
            return true;
        }
        if (it_mono_ms() >= end) {
            fprintf(stderr, "stale partitions of %s [%s], wanted [%s]\n", view, stale, want);
            return false;
        }
        usleep(50 * 1000);
    }
}

int
it_field_index(MYSQL_RES *r, const char *name)
{
    MYSQL_FIELD *f = mysql_fetch_fields(r);
    unsigned i, n = mysql_num_fields(r);
    for (i = 0; i < n; i++) {
        if (strcasecmp(f[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}
