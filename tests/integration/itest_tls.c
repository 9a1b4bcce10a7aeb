/*
 * itest_tls.c - TLS termination (issue 11) through the real mvproxy:
 * libmariadb over TLS to the proxy (cipher on the client side, rows equal
 * to direct, an error keeps the connection), --tls-mode required refuses a
 * plaintext client (3159 / 08004), --tls-mode disabled fails a client that
 * requires TLS, a given --tls-cert is the one the client verifies, an
 * ed25519 user over TLS (auth switch renumbered across the hops), backend
 * TLS required / verify-ca / verify-full and a wrong CA, the engine's own
 * connections over TLS (a service user that REQUIREs SSL: CREATE + REFRESH
 * of a materialized view), the `mariadb` CLI with --ssl, pymysql with ssl=,
 * and raw sockets that misbehave after an SSLRequest (plaintext bytes,
 * close mid-handshake) or send the ClientHello in the same segment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "it_common.h"

#define DB   "ittls"
#define META "mvp_meta_ittls"

static struct it_env env;
static char tmpdir[256];    /* the test's own certificate (mkdtemp) */
static char cert_path[300]; /* self-signed, CN localhost, SAN IP:127.0.0.1 */
static char key_path[300];

/* Start a proxy with EXTRA (NULL-terminated) or fail the test. */
static void
start(struct it_proxy *p, const char *const *extra)
{
    if (it_proxy_start(p, &env, META, extra) != 0) {
        fail_msg("proxy did not start");
    }
}

/*
 * Does a proxy with EXTRA start and keep running? The listener opens before
 * the catalog connects, so a proxy whose engine cannot connect may accept
 * for a moment: it must still be alive a while later. Stops it when it is.
 */
static bool
starts_and_stays(const char *const *extra)
{
    struct it_proxy p;
    int64_t end;

    if (it_proxy_start(&p, &env, META, extra) != 0) {
        return false;
    }
    end = it_mono_ms() + 2000;
    while (it_mono_ms() < end) {
        if (!it_proxy_alive(&p)) {
            return false;
        }
        it_sleep_ms(50);
    }
    it_proxy_stop(&p);
    return true;
}

/*
 * libmariadb to 127.0.0.1:PORT as USER/PW; with TLS: MYSQL_OPT_SSL_ENFORCE,
 * the server certificate verified against CA when VERIFY. NULL on failure
 * with *ERRNO_OUT and ERRBUF (512 bytes) set.
 */
static MYSQL *
conn(unsigned port, const char *user, const char *pw, bool tls, const char *ca, bool verify,
     unsigned *errno_out, char *errbuf)
{
    MYSQL *m = mysql_init(NULL);
    my_bool on = 1, v = verify;
    unsigned timeout = 10;

    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
    if (tls) {
        mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
        mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &v);
        if (ca != NULL) {
            mysql_optionsv(m, MYSQL_OPT_SSL_CA, ca);
        }
    }
    if (mysql_real_connect(m, "127.0.0.1", user, pw, DB, port, NULL, CLIENT_MULTI_RESULTS) ==
        NULL) {
        if (errno_out != NULL) {
            *errno_out = mysql_errno(m);
        }
        if (errbuf != NULL) {
            snprintf(errbuf, 512, "%u: %s", mysql_errno(m), mysql_error(m));
        }
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* conn() as root that fails the test when it does not connect. */
static MYSQL *
must_conn(const struct it_proxy *p, bool tls)
{
    char err[512];
    MYSQL *m = conn(p->port, env.db_user, env.db_password, tls, NULL, false, NULL, err);

    if (m == NULL) {
        it_proxy_log_tail(p, 30);
        fail_msg("connect (tls %d): %s", tls, err);
    }
    return m;
}

/* Ssl_cipher of the backend hop as the backend reports it, into BUF. */
static void
backend_cipher(MYSQL *m, char *buf, size_t len)
{
    MYSQL_RES *res;
    MYSQL_ROW row;

    buf[0] = '\0';
    if (mysql_query(m, "SHOW STATUS LIKE 'Ssl_cipher'") != 0) {
        fail_msg("SHOW STATUS: %s", mysql_error(m));
    }
    res = mysql_store_result(m);
    assert_non_null(res);
    row = mysql_fetch_row(res);
    if (row != NULL && row[1] != NULL) {
        snprintf(buf, len, "%s", row[1]);
    }
    mysql_free_result(res);
}

/* Does the proxy log of P contain NEEDLE? */
static bool
log_has(const struct it_proxy *p, const char *needle)
{
    FILE *f = fopen(p->log_path, "r");
    char line[4096];
    bool found = false;

    if (f == NULL) {
        return false;
    }
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        found = strstr(line, needle) != NULL;
    }
    fclose(f);
    return found;
}

/* Run the shell command CMD, its output (stdout+stderr, owned) into *OUT; returns its status. */
static int
run(const char *cmd, char **out)
{
    FILE *f = popen(cmd, "r");
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    int st;

    assert_non_null(f);
    assert_non_null(buf);
    while (!feof(f)) {
        if (cap - n < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        n += fread(buf + n, 1, cap - n - 1, f);
    }
    buf[n] = '\0';
    st = pclose(f);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
group_setup(void **state)
{
    MYSQL *d;
    char cmd[1200], *out = NULL;

    (void)state;
    it_env_load(&env);
    if (it_reset_dbs(&env, DB, META, true) != 0) {
        return -1;
    }
    d = it_connect_direct(&env, DB, 0);
    if (d == NULL) {
        return -1;
    }
    if (it_exec(d, "CREATE TABLE t (id INT PRIMARY KEY, region VARCHAR(20), amount INT)") ||
        it_exec(d, "INSERT INTO t VALUES (1,'north',10),(2,'south',20),(3,'north',5),"
                   "(4,'east',NULL),(5,'south',7)")) {
        mysql_close(d);
        return -1;
    }
    mysql_close(d);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/mvp-ittls-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", tmpdir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", tmpdir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout %s -out %s 2>&1",
             key_path, cert_path);
    if (run(cmd, &out) != 0) {
        fprintf(stderr, "openssl: %s\n", out);
        free(out);
        return -1;
    }
    free(out);
    return 0;
}

static int
group_teardown(void **state)
{
    char cmd[400], *out = NULL;

    (void)state;
    it_reset_dbs(&env, DB, META, false);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    run(cmd, &out);
    free(out);
    return 0;
}

/* Default proxy (tls-mode preferred, ephemeral certificate): TLS and plaintext clients. */
static void
test_preferred(void **state)
{
    struct it_proxy p;
    struct it_rows a, b;
    MYSQL *m, *plain, *d;
    const char *q = "SELECT region, SUM(amount), COUNT(*) FROM t GROUP BY region";

    (void)state;
    start(&p, NULL);
    assert_true(log_has(&p, "SHA-256 fingerprint"));
    m = must_conn(&p, true);
    assert_non_null(mysql_get_ssl_cipher(m));
    d = it_must_connect_direct(&env, DB, 0);
    assert_int_equal(it_query_rows(m, q, &a), 0);
    assert_int_equal(it_query_rows(d, q, &b), 0);
    assert_true(a.n == 3);
    assert_true(it_rows_equal(&a, &b));
    it_rows_free(&a);
    it_rows_free(&b);
    /* an error keeps the TLS connection usable */
    it_expect_errno(m, "SELECT * FROM no_such_table", 1146);
    assert_int_equal(it_query_rows(m, "SELECT COUNT(*) FROM t", &a), 0);
    assert_string_equal(a.rows[0], "5");
    it_rows_free(&a);
    /* a large result over TLS (many TLS records) */
    assert_int_equal(it_query_rows(m, "SELECT REPEAT('x', 1000000)", &a), 0);
    assert_int_equal(a.n, 1);
    assert_int_equal(strlen(a.rows[0]), 1000000);
    it_rows_free(&a);
    plain = must_conn(&p, false);
    assert_null(mysql_get_ssl_cipher(plain));
    assert_int_equal(it_query_rows(plain, "SELECT 1", &a), 0);
    it_rows_free(&a);
    mysql_close(plain);
    mysql_close(m);
    mysql_close(d);
    assert_int_equal(it_proxy_stop(&p), 0);
}

/* --tls-mode required: a plaintext client gets 3159 (ER_SECURE_TRANSPORT_REQUIRED). */
static void
test_required(void **state)
{
    static const char *const args[] = {"--tls-mode", "required", NULL};
    struct it_proxy p;
    unsigned code = 0;
    char err[512];
    MYSQL *m;

    (void)state;
    start(&p, args);
    m = conn(p.port, env.db_user, env.db_password, false, NULL, false, &code, err);
    assert_null(m);
    assert_int_equal(code, 3159);
    m = must_conn(&p, true);
    assert_non_null(mysql_get_ssl_cipher(m));
    mysql_close(m);
    assert_true(it_proxy_alive(&p));
    assert_int_equal(it_proxy_stop(&p), 0);
}

/* --tls-mode disabled: no CLIENT_SSL offered, a client that requires TLS fails. */
static void
test_disabled(void **state)
{
    static const char *const args[] = {"--tls-mode", "disabled", NULL};
    struct it_proxy p;
    unsigned code = 0;
    char err[512];
    MYSQL *m;

    (void)state;
    start(&p, args);
    /* libmariadb 3.3 with MYSQL_OPT_SSL_ENFORCE alone goes on in plaintext;
     * verifying the server certificate makes TLS mandatory */
    m = conn(p.port, env.db_user, env.db_password, true, cert_path, true, &code, err);
    assert_null(m);
    assert_int_equal(code, 2026); /* CR_SSL_CONNECTION_ERROR */
    m = conn(p.port, env.db_user, env.db_password, true, NULL, false, &code, err);
    if (m != NULL) {
        assert_null(mysql_get_ssl_cipher(m)); /* never TLS on this proxy */
        mysql_close(m);
    }
    m = must_conn(&p, false);
    assert_null(mysql_get_ssl_cipher(m));
    mysql_close(m);
    assert_int_equal(it_proxy_stop(&p), 0);
}

/* --tls-cert/--tls-key: the client verifies exactly that certificate; the ephemeral one fails. */
static void
test_given_cert(void **state)
{
    const char *const args[] = {"--tls-cert", cert_path, "--tls-key", key_path, NULL};
    struct it_proxy p, q;
    unsigned code = 0;
    char err[512];
    MYSQL *m;

    (void)state;
    start(&p, args);
    m = conn(p.port, env.db_user, env.db_password, true, cert_path, true, &code, err);
    if (m == NULL) {
        it_proxy_log_tail(&p, 20);
        fail_msg("verified connect: %s", err);
    }
    assert_non_null(mysql_get_ssl_cipher(m));
    mysql_close(m);
    assert_int_equal(it_proxy_stop(&p), 0);
    /* the same CA does not verify the ephemeral certificate */
    start(&q, NULL);
    m = conn(q.port, env.db_user, env.db_password, true, cert_path, true, &code, err);
    assert_null(m);
    assert_int_equal(code, 2026);
    assert_true(it_proxy_alive(&q));
    assert_int_equal(it_proxy_stop(&q), 0);
}

/* An ed25519 user over client TLS: its auth switch crosses hops with different sequence ids. */
static void
test_ed25519(void **state)
{
    static const char *const bk[] = {"--backend-tls", "required", NULL};
    struct it_proxy p;
    MYSQL *d, *m;
    unsigned code = 0;
    char err[512], v[128];
    int round;

    (void)state;
    d = it_must_connect_direct(&env, NULL, 0);
    if (mysql_query(d, "INSTALL SONAME 'auth_ed25519'") != 0 && mysql_errno(d) != 1968 &&
        mysql_errno(d) != 1125) {
        fail_msg("INSTALL SONAME: %s (%u)", mysql_error(d), mysql_errno(d));
    }
    it_exec(d, "DROP USER IF EXISTS 'ited'@'%'");
    it_exec(d, "DROP USER IF EXISTS 'ited'@'127.0.0.1'");
    it_exec_ok(d, "CREATE USER 'ited'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('ed_pw')");
    it_exec_ok(d, "CREATE USER 'ited'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('ed_pw')");
    it_exec_ok(d, "GRANT SELECT ON " DB ".* TO 'ited'@'%'");
    it_exec_ok(d, "GRANT SELECT ON " DB ".* TO 'ited'@'127.0.0.1'");
    for (round = 0; round < 2; round++) {
        /* round 0: client TLS, plaintext backend; round 1: TLS on both hops */
        start(&p, round == 0 ? NULL : bk);
        m = conn(p.port, "ited", "ed_pw", true, NULL, false, &code, err);
        if (m == NULL) {
            it_proxy_log_tail(&p, 30);
            fail_msg("ed25519 over TLS (round %d): %s", round, err);
        }
        assert_non_null(mysql_get_ssl_cipher(m));
        assert_int_equal(it_first_value(m, "SELECT CURRENT_USER()", v, sizeof(v)), 0);
        assert_non_null(strstr(v, "ited@"));
        assert_int_equal(it_first_value(m, "SELECT COUNT(*) FROM t", v, sizeof(v)), 0);
        assert_string_equal(v, "5");
        mysql_close(m);
        m = conn(p.port, "ited", "wrong", true, NULL, false, &code, err);
        assert_null(m);
        assert_int_equal(code, 1045);
        /* plaintext client, ed25519, (round 1: TLS backend: the other delta) */
        m = conn(p.port, "ited", "ed_pw", false, NULL, false, &code, err);
        if (m == NULL) {
            it_proxy_log_tail(&p, 30);
            fail_msg("ed25519 plaintext (round %d): %s", round, err);
        }
        mysql_close(m);
        assert_int_equal(it_proxy_stop(&p), 0);
    }
    it_exec_ok(d, "DROP USER 'ited'@'%'");
    it_exec_ok(d, "DROP USER 'ited'@'127.0.0.1'");
    mysql_close(d);
}

/* --backend-tls required / verify-ca / verify-full: the backend reports a cipher. */
static void
test_backend_tls(void **state)
{
    const char *ca = getenv("MVP_DB_TLS_CA");
    const char *modes[] = {"required", "verify-ca", "verify-full"};
    struct it_proxy p;
    MYSQL *m;
    char cipher[128];
    size_t i;
    int tls;

    (void)state;
    if (ca == NULL) {
        fail_msg("MVP_DB_TLS_CA is not set: scripts/mariadb.sh makes the backend's CA");
    }
    /* without --backend-tls the backend hop is plaintext, whatever the client does */
    start(&p, NULL);
    m = must_conn(&p, true);
    backend_cipher(m, cipher, sizeof(cipher));
    assert_string_equal(cipher, "");
    mysql_close(m);
    assert_int_equal(it_proxy_stop(&p), 0);
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        const char *args[] = {"--backend-tls", modes[i], "--backend-tls-ca", ca, NULL};
        start(&p, args);
        for (tls = 0; tls < 2; tls++) {
            m = must_conn(&p, tls != 0);
            backend_cipher(m, cipher, sizeof(cipher));
            if (cipher[0] == '\0') {
                fail_msg("--backend-tls %s, client tls %d: backend hop not TLS", modes[i], tls);
            }
            assert_int_equal(it_exec(m, "SELECT 1"), 0);
            mysql_close(m);
        }
        assert_int_equal(it_proxy_stop(&p), 0);
    }
}

/* verify-ca against a CA that did not sign the backend's certificate: a clear ERR. */
static void
test_backend_wrong_ca(void **state)
{
    const char *const args[] = {"--backend-tls", "verify-ca", "--backend-tls-ca", cert_path, NULL};

    (void)state;
    /* the engine's own connection fails first: the proxy must not start */
    if (starts_and_stays(args)) {
        fail_msg("the proxy started with a backend CA that cannot verify the backend");
    }
}

/* Copy file FROM over TO (fails the test on an error). */
static void
copy_file(const char *from, const char *to)
{
    char cmd[1200], *out = NULL;

    snprintf(cmd, sizeof(cmd), "cp '%s' '%s' 2>&1", from, to);
    if (run(cmd, &out) != 0) {
        fail_msg("cp %s %s: %s", from, to, out);
    }
    free(out);
}

/*
 * A session whose backend TLS handshake fails (the backend's certificate
 * changed under a running verify-ca proxy: FLUSH SSL with the test's own
 * self-signed pair) gets a clear ERR, the proxy logs it and keeps serving;
 * with the right certificate back, sessions work again.
 */
static void
test_backend_handshake_fails(void **state)
{
    const char *ca = getenv("MVP_DB_TLS_CA");
    const char *rd = getenv("MVP_RUN_DIR");
    const char *args[] = {"--backend-tls", "verify-ca", "--backend-tls-ca", ca, NULL};
    char srv_cert[400], srv_key[400], save_cert[400], save_key[400], err[512];
    struct it_proxy p;
    unsigned code = 0;
    MYSQL *d, *m;

    (void)state;
    if (ca == NULL || rd == NULL) {
        fail_msg("MVP_DB_TLS_CA / MVP_RUN_DIR not set (scripts/mariadb.sh env)");
    }
    snprintf(srv_cert, sizeof(srv_cert), "%s/tls/server-cert.pem", rd);
    snprintf(srv_key, sizeof(srv_key), "%s/tls/server-key.pem", rd);
    snprintf(save_cert, sizeof(save_cert), "%s/orig-cert.pem", tmpdir);
    snprintf(save_key, sizeof(save_key), "%s/orig-key.pem", tmpdir);
    start(&p, args);
    d = it_must_connect_direct(&env, NULL, 0);
    copy_file(srv_cert, save_cert);
    copy_file(srv_key, save_key);
    copy_file(cert_path, srv_cert);
    copy_file(key_path, srv_key);
    it_exec_ok(d, "FLUSH SSL");
    m = conn(p.port, env.db_user, env.db_password, true, NULL, false, &code, err);
    /* put the backend's own certificate back before any assertion can fail */
    copy_file(save_cert, srv_cert);
    copy_file(save_key, srv_key);
    it_exec_ok(d, "FLUSH SSL");
    mysql_close(d);
    if (m != NULL) {
        mysql_close(m);
        fail_msg("connected although the backend's certificate does not verify");
    }
    assert_int_equal(code, 1158); /* CR_SSL_CONNECTION_ERROR as a server-side code */
    assert_non_null(strstr(err, "TLS handshake with backend"));
    assert_true(it_proxy_alive(&p));
    assert_true(log_has(&p, "TLS handshake with backend"));
    m = must_conn(&p, true);
    mysql_close(m);
    assert_int_equal(it_proxy_stop(&p), 0);
}

/*
 * The engine's libmariadb connections over TLS: a service user that
 * REQUIREs SSL works only with --backend-tls; CREATE MATERIALIZED VIEW and
 * REFRESH (refresh task connections) then succeed.
 */
static void
test_engine_tls(void **state)
{
    const char *const args[] = {
        "--service-user", "itsvc", "--service-password", "svc_pw", "--backend-tls",
        "required",       NULL};
    const char *const plain[] = {"--service-user", "itsvc", "--service-password", "svc_pw", NULL};
    struct it_proxy p;
    MYSQL *d, *m;
    char v[64];

    (void)state;
    d = it_must_connect_direct(&env, NULL, 0);
    it_exec(d, "DROP USER IF EXISTS 'itsvc'@'%'");
    it_exec(d, "DROP USER IF EXISTS 'itsvc'@'127.0.0.1'");
    it_exec_ok(d, "CREATE USER 'itsvc'@'%' IDENTIFIED BY 'svc_pw' REQUIRE SSL");
    it_exec_ok(d, "CREATE USER 'itsvc'@'127.0.0.1' IDENTIFIED BY 'svc_pw' REQUIRE SSL");
    it_exec_ok(d, "GRANT ALL ON *.* TO 'itsvc'@'%' WITH GRANT OPTION");
    it_exec_ok(d, "GRANT ALL ON *.* TO 'itsvc'@'127.0.0.1' WITH GRANT OPTION");
    /* plaintext engine connections are refused by the backend: no start */
    if (starts_and_stays(plain)) {
        fail_msg("proxy started although its service user needs TLS and --backend-tls is off");
    }
    start(&p, args);
    m = must_conn(&p, true);
    it_exec_ok(m, "CREATE MATERIALIZED VIEW mv_tls BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL "
                  "AS SELECT region, SUM(amount) AS s, COUNT(*) AS n FROM t GROUP BY region");
    it_exec_ok(m, "INSERT INTO t VALUES (6, 'west', 1)");
    it_exec_ok(m, "REFRESH MATERIALIZED VIEW mv_tls");
    assert_int_equal(it_first_value(m, "SELECT COUNT(*) FROM mv_tls", v, sizeof(v)), 0);
    assert_string_equal(v, "4");
    it_exec_ok(m, "DROP MATERIALIZED VIEW mv_tls");
    it_exec_ok(m, "DELETE FROM t WHERE id = 6");
    mysql_close(m);
    assert_int_equal(it_proxy_stop(&p), 0);
    it_exec_ok(d, "DROP USER 'itsvc'@'%'");
    it_exec_ok(d, "DROP USER 'itsvc'@'127.0.0.1'");
    mysql_close(d);
}

/* The mariadb CLI with --ssl, and pymysql with ssl=, through the proxy. */
static void
test_cli_and_pymysql(void **state)
{
    struct it_proxy p;
    char cmd[1024], *out = NULL;
    int rc;

    (void)state;
    start(&p, NULL);
    snprintf(cmd, sizeof(cmd),
             "mariadb --no-defaults -h127.0.0.1 -P%u -u%s --ssl "
             "-e 'status' 2>&1",
             p.port, env.db_user);
    rc = run(cmd, &out);
    if (rc != 0 || strstr(out, "Cipher in use") == NULL) {
        fail_msg("mariadb --ssl (rc %d): %s", rc, out);
    }
    free(out);
    /* the Debian package (python3-pymysql) serves the system interpreter */
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c 'import pymysql' 2>&1");
    if (run(cmd, &out) != 0) {
        fail_msg("python3-pymysql is missing (scripts/deps.sh installs it): %s", out);
    }
    free(out);
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c \"import pymysql\n"
             "c = pymysql.connect(host='127.0.0.1', port=%u, user='%s', password='', "
             "database='" DB "', ssl={'check_hostname': False})\n"
             "cur = c.cursor(); cur.execute('SELECT COUNT(*) FROM t'); print('rows', "
             "cur.fetchone()[0]); print('tls', c._sock.version())\" 2>&1",
             p.port, env.db_user);
    rc = run(cmd, &out);
    if (rc != 0 || strstr(out, "rows 5") == NULL || strstr(out, "tls TLS") == NULL) {
        fail_msg("pymysql ssl= (rc %d): %s", rc, out);
    }
    free(out);
    assert_int_equal(it_proxy_stop(&p), 0);
}

/* A raw TCP connection to P that has read the greeting. */
static int
raw_connect(const struct it_proxy *p)
{
    struct sockaddr_in sa;
    uint8_t buf[4096];
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    ssize_t n;

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)p->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    n = recv(fd, buf, sizeof(buf), 0); /* the greeting (one packet, small) */
    assert_true(n > 4);
    assert_true(buf[4] == 10);
    return fd;
}

/* The 36 bytes of an SSLRequest (sequence id 1) into REQ. */
static void
ssl_request(uint8_t *req)
{
    uint32_t caps = (1u << 0) | (1u << 9) | (1u << 11) | (1u << 15) | (1u << 19);

    memset(req, 0, 36);
    req[0] = 32;
    req[3] = 1;
    req[4] = (uint8_t)caps;
    req[5] = (uint8_t)(caps >> 8);
    req[6] = (uint8_t)(caps >> 16);
    req[7] = (uint8_t)(caps >> 24);
    req[8 + 2] = 0x01; /* max packet 64 KiB */
    req[12] = 45;
}

/* Wait up to MS for FD to be closed by the peer; true when it was. */
static bool
closed_within(int fd, int ms)
{
    uint8_t buf[4096];
    int64_t end = it_mono_ms() + ms;
    struct pollfd pfd = {fd, POLLIN, 0};
    ssize_t n;

    while (it_mono_ms() < end) {
        if (poll(&pfd, 1, 100) > 0) {
            n = recv(fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                return true;
            }
        }
    }
    return false;
}

/* Misbehaving clients after an SSLRequest are closed cleanly; the proxy keeps serving. */
static void
test_raw_misbehaviour(void **state)
{
    struct it_proxy p;
    uint8_t req[36];
    const char junk[] = "this is not a TLS ClientHello at all\r\n\r\n";
    /* the start of a TLS record: handshake, TLS 1.0, length 512, then nothing */
    const uint8_t half[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
    SSL_CTX *ctx;
    SSL *ssl;
    MYSQL *m;
    int fd, round;

    (void)state;
    start(&p, NULL);
    ssl_request(req);
    /* plaintext bytes after the SSLRequest */
    fd = raw_connect(&p);
    assert_int_equal(send(fd, req, sizeof(req), 0), (ssize_t)sizeof(req));
    assert_int_equal(send(fd, junk, sizeof(junk) - 1, 0), (ssize_t)sizeof(junk) - 1);
    assert_true(closed_within(fd, 5000));
    close(fd);
    /* close right after the SSLRequest, and in the middle of a ClientHello */
    for (round = 0; round < 2; round++) {
        fd = raw_connect(&p);
        assert_int_equal(send(fd, req, sizeof(req), 0), (ssize_t)sizeof(req));
        if (round == 1) {
            assert_int_equal(send(fd, half, sizeof(half), 0), (ssize_t)sizeof(half));
        }
        it_sleep_ms(100);
        close(fd);
    }
    /* an SSLRequest, then silence: dropped after the handshake timeout (10 s) */
    fd = raw_connect(&p);
    assert_int_equal(send(fd, req, sizeof(req), 0), (ssize_t)sizeof(req));
    if (!closed_within(fd, 15000)) {
        fail_msg("a client silent after its SSLRequest was not dropped within 15 s");
    }
    close(fd);
    assert_true(log_has(&p, "no progress for"));
    /* a malformed (short) SSLRequest-like packet: 31 bytes with CLIENT_SSL */
    fd = raw_connect(&p);
    req[0] = 27;
    assert_int_equal(send(fd, req, 31, 0), 31);
    assert_true(closed_within(fd, 5000));
    close(fd);
    req[0] = 32;
    /* SSLRequest and ClientHello in one segment: no byte of the hello may be lost */
    fd = raw_connect(&p);
    assert_int_equal(send(fd, req, sizeof(req), MSG_MORE), (ssize_t)sizeof(req));
    ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        it_proxy_log_tail(&p, 20);
        fail_msg("TLS handshake after a coalesced SSLRequest failed");
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    it_sleep_ms(200);
    assert_true(it_proxy_alive(&p));
    assert_true(log_has(&p, "TLS handshake failed"));
    m = must_conn(&p, true);
    assert_non_null(mysql_get_ssl_cipher(m));
    mysql_close(m);
    assert_int_equal(it_proxy_stop(&p), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preferred),        cmocka_unit_test(test_required),
        cmocka_unit_test(test_disabled),         cmocka_unit_test(test_given_cert),
        cmocka_unit_test(test_ed25519),          cmocka_unit_test(test_backend_tls),
        cmocka_unit_test(test_backend_wrong_ca), cmocka_unit_test(test_backend_handshake_fails),
        cmocka_unit_test(test_engine_tls),       cmocka_unit_test(test_cli_and_pymysql),
        cmocka_unit_test(test_raw_misbehaviour),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
