/*
 * px_conf.c - defaults, INI loader (libinih) and flag parser for struct
 * px_conf. Every key is declared once in the table below; the INI key and
 * the flag name are the same word (underscores in the file, dashes on the
 * command line).
 */
#include "px_conf.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "rw_limits.h"

enum key_id {
    K_LISTEN,
    K_BACKEND,
    K_SERVICE_USER,
    K_SERVICE_PASSWORD,
    K_META_SCHEMA,
    K_THREADS,
    K_LOG_LEVEL,
    K_REFRESH_TASKS,
    K_COMMIT_DEBOUNCE_MS,
    K_CATALOG_POLL_MS,
    K_REFRESH_LOG_BIN,
    K_SHUTDOWN_TIMEOUT,
    K_MAX_STATEMENT_BYTES,
    K_MAX_STATEMENT_TOKENS,
    K_MAX_PARSE_DEPTH,
    K_REWRITE_TIME_BUDGET_MS,
    K_TLS_MODE,
    K_TLS_CERT,
    K_TLS_KEY,
    K_TLS_CA,
    K_BACKEND_TLS,
    K_BACKEND_TLS_CA,
    K_BACKEND_TLS_CERT,
    K_BACKEND_TLS_KEY,
    K_FRESHNESS_FENCE_MS,
};

struct key_def {
    const char *ini;        /* INI key */
    const char *flag;       /* command-line flag */
    enum key_id id;         /* which field */
};

static const struct key_def keys[] = {
    {"backend", "--backend", K_BACKEND},
    {"backend_tls", "--backend-tls", K_BACKEND_TLS},
    {"backend_tls_ca", "--backend-tls-ca", K_BACKEND_TLS_CA},
    {"backend_tls_cert", "--backend-tls-cert", K_BACKEND_TLS_CERT},
    {"backend_tls_key", "--backend-tls-key", K_BACKEND_TLS_KEY},
    {"catalog_poll_ms", "--catalog-poll-ms", K_CATALOG_POLL_MS},
    {"commit_debounce_ms", "--commit-debounce-ms", K_COMMIT_DEBOUNCE_MS},
    {"freshness_fence_ms", "--freshness-fence-ms", K_FRESHNESS_FENCE_MS},
    {"listen", "--listen", K_LISTEN},
    {"log_level", "--log-level", K_LOG_LEVEL},
    {"max_parse_depth", "--max-parse-depth", K_MAX_PARSE_DEPTH},
    {"max_statement_bytes", "--max-statement-bytes", K_MAX_STATEMENT_BYTES},
    {"max_statement_tokens", "--max-statement-tokens", K_MAX_STATEMENT_TOKENS},
    {"meta_schema", "--meta-schema", K_META_SCHEMA},
    {"refresh_log_bin", "--refresh-log-bin", K_REFRESH_LOG_BIN},
    {"refresh_tasks", "--refresh-tasks", K_REFRESH_TASKS},
    {"rewrite_time_budget_ms", "--rewrite-time-budget-ms", K_REWRITE_TIME_BUDGET_MS},
    {"service_password", "--service-password", K_SERVICE_PASSWORD},
    {"service_user", "--service-user", K_SERVICE_USER},
    {"shutdown_timeout", "--shutdown-timeout", K_SHUTDOWN_TIMEOUT},
    {"threads", "--threads", K_THREADS},
    {"tls_ca", "--tls-ca", K_TLS_CA},
    {"tls_cert", "--tls-cert", K_TLS_CERT},
    {"tls_key", "--tls-key", K_TLS_KEY},
    {"tls_mode", "--tls-mode", K_TLS_MODE},
};

static char *
xstrdup(const char *s)
{
    char *p = strdup(s);

    if (p == NULL) {
        px_fatal("out of memory");
    }
    return p;
}

/* Replace the owned string *DST with a copy of S. */
static void
set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = xstrdup(s);
}

void
px_conf_defaults(struct px_conf *cf)
{
    char err[64];

    memset(cf, 0, sizeof(*cf));
    px_conf_parse_hostport(PX_CONF_DEFAULT_LISTEN, &cf->listen_host, &cf->listen_port, err,
                           sizeof(err));
    px_conf_parse_hostport(PX_CONF_DEFAULT_BACKEND, &cf->backend_host, &cf->backend_port, err,
                           sizeof(err));
    cf->service_user = xstrdup(PX_CONF_DEFAULT_USER);
    cf->service_password = xstrdup("");
    cf->meta_schema = xstrdup(PX_CONF_DEFAULT_META);
    cf->threads = PX_CONF_DEFAULT_THREADS;
    cf->freshness_fence_ms = PX_CONF_DEFAULT_FENCE_MS;
    cf->shutdown_timeout = PX_CONF_DEFAULT_SHUTDOWN_TIMEOUT;
    cf->log_level = PX_LOG_INFO;
    cf->max_statement_bytes = RW_DEFAULT_MAX_BYTES;
    cf->max_statement_tokens = RW_DEFAULT_MAX_TOKENS;
    cf->max_parse_depth = RW_DEFAULT_MAX_DEPTH;
    cf->rewrite_time_budget_ms = RW_DEFAULT_TIME_BUDGET_MS;
    cf->tls_mode = PX_TLS_PREFERRED;
    cf->backend_tls = PX_BTLS_DISABLED;
}

void
px_conf_free(struct px_conf *cf)
{
    free(cf->config_file);
    free(cf->listen_host);
    free(cf->backend_host);
    free(cf->service_user);
    free(cf->service_password);
    free(cf->meta_schema);
    free(cf->tls_cert);
    free(cf->tls_key);
    free(cf->tls_ca);
    free(cf->backend_tls_ca);
    free(cf->backend_tls_cert);
    free(cf->backend_tls_key);
    memset(cf, 0, sizeof(*cf));
}

int
px_conf_parse_hostport(const char *s, char **host, unsigned *port, char *err, size_t errlen)
{
    const char *colon, *h = s;
    size_t hlen;
    char *end;
    unsigned long p;

    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (rb == NULL || rb[1] != ':') {
            snprintf(err, errlen, "bad address '%s': expected [IPv6]:PORT", s);
            return -1;
        }
        h = s + 1;
        hlen = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            snprintf(err, errlen, "bad address '%s': expected HOST:PORT", s);
            return -1;
        }
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0) {
        snprintf(err, errlen, "bad address '%s': empty host", s);
        return -1;
    }
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || p > 65535) {
        snprintf(err, errlen, "bad address '%s': port must be 0..65535", s);
        return -1;
    }
    *host = malloc(hlen + 1);
    if (*host == NULL) {
        px_fatal("out of memory");
    }
    memcpy(*host, h, hlen);
    (*host)[hlen] = '\0';
    *port = (unsigned)p;
    return 0;
}

/* Parse VALUE as an integer in [LO, HI] into *OUT; -1 when it is not one. */
static int
int_in(const char *value, long long lo, long long hi, long long *out)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(value, &end, 10);
    if (value[0] == '\0' || *end != '\0' || errno != 0 || n < lo || n > hi) {
        return -1;
    }
    *out = n;
    return 0;
}

/* Apply VALUE to key ID of CF; on error write a reason (without location) into ERR. */
static int
apply(struct px_conf *cf, enum key_id id, const char *value, char *err, size_t errlen)
{
    char *host = NULL;
    unsigned port;
    long long n;

    switch (id) {
    case K_LISTEN:
    case K_BACKEND:
        if (px_conf_parse_hostport(value, &host, &port, err, errlen) != 0) {
            return -1;
        }
        if (id == K_LISTEN) {
            free(cf->listen_host);
            cf->listen_host = host;
            cf->listen_port = port;
        } else {
            if (port == 0) {
                free(host);
                snprintf(err, errlen, "bad backend '%s': port must be 1..65535", value);
                return -1;
            }
            free(cf->backend_host);
            cf->backend_host = host;
            cf->backend_port = port;
        }
        return 0;
    case K_SERVICE_USER:
        if (value[0] == '\0') {
            snprintf(err, errlen, "service user must not be empty");
            return -1;
        }
        set_str(&cf->service_user, value);
        return 0;
    case K_SERVICE_PASSWORD:
        set_str(&cf->service_password, value);
        return 0;
    case K_META_SCHEMA:
        if (value[0] == '\0' || strlen(value) > 64 || strchr(value, '`') != NULL) {
            snprintf(err, errlen, "bad meta schema '%s'", value);
            return -1;
        }
        set_str(&cf->meta_schema, value);
        return 0;
    case K_THREADS:
        if (int_in(value, 1, PX_CONF_MAX_THREADS, &n) != 0) {
            snprintf(err, errlen, "bad threads '%s': must be 1..%d", value, PX_CONF_MAX_THREADS);
            return -1;
        }
        cf->threads = (int)n;
        return 0;
    case K_REFRESH_TASKS:
        if (int_in(value, 1, PX_CONF_MAX_REFRESH_TASKS, &n) != 0) {
            snprintf(err, errlen, "bad refresh tasks '%s': must be 1..%d", value,
                     PX_CONF_MAX_REFRESH_TASKS);
            return -1;
        }
        cf->refresh_tasks = (int)n;
        return 0;
    case K_COMMIT_DEBOUNCE_MS:
    case K_CATALOG_POLL_MS:
        if (int_in(value, 1, PX_CONF_MAX_INTERVAL_MS, &n) != 0) {
            snprintf(err, errlen, "bad %s '%s': must be 1..%d milliseconds",
                     id == K_CATALOG_POLL_MS ? "catalog poll interval" : "commit debounce",
                     value, PX_CONF_MAX_INTERVAL_MS);
            return -1;
        }
        if (id == K_CATALOG_POLL_MS) {
            cf->catalog_poll_ms = n;
        } else {
            cf->commit_debounce_ms = n;
        }
        return 0;
    case K_MAX_STATEMENT_BYTES:
    case K_MAX_STATEMENT_TOKENS:
        if (int_in(value, 0, PX_CONF_MAX_STATEMENT, &n) != 0) {
            snprintf(err, errlen, "bad %s '%s': must be 0 (no limit)..%lld",
                     id == K_MAX_STATEMENT_BYTES ? "max_statement_bytes" : "max_statement_tokens",
                     value, (long long)PX_CONF_MAX_STATEMENT);
            return -1;
        }
        if (id == K_MAX_STATEMENT_BYTES) {
            cf->max_statement_bytes = n;
        } else {
            cf->max_statement_tokens = n;
        }
        return 0;
    case K_MAX_PARSE_DEPTH:
        if (int_in(value, 1, RW_MAX_DEPTH_CEILING, &n) != 0) {
            snprintf(err, errlen, "bad max_parse_depth '%s': must be 1..%u", value,
                     RW_MAX_DEPTH_CEILING);
            return -1;
        }
        cf->max_parse_depth = n;
        return 0;
    case K_FRESHNESS_FENCE_MS:
        if (int_in(value, 0, PX_CONF_MAX_FENCE_MS, &n) != 0) {
            snprintf(err, errlen, "bad freshness_fence_ms '%s': must be 0 (no fence)..%d", value,
                     PX_CONF_MAX_FENCE_MS);
            return -1;
        }
        cf->freshness_fence_ms = n;
        return 0;
    case K_REWRITE_TIME_BUDGET_MS:
        if (int_in(value, 0, PX_CONF_MAX_INTERVAL_MS, &n) != 0) {
            snprintf(err, errlen, "bad rewrite_time_budget_ms '%s': must be 0 (no limit)..%d",
                     value, PX_CONF_MAX_INTERVAL_MS);
            return -1;
        }
        cf->rewrite_time_budget_ms = n;
        return 0;
    case K_REFRESH_LOG_BIN:
        if (strcasecmp(value, "on") == 0 || strcmp(value, "1") == 0 ||
            strcasecmp(value, "true") == 0) {
            cf->refresh_log_bin = 1;
        } else if (strcasecmp(value, "off") == 0 || strcmp(value, "0") == 0 ||
                   strcasecmp(value, "false") == 0) {
            cf->refresh_log_bin = -1;
        } else {
            snprintf(err, errlen, "bad refresh_log_bin '%s': use on or off", value);
            return -1;
        }
        return 0;
    case K_SHUTDOWN_TIMEOUT:
        if (int_in(value, 0, PX_CONF_MAX_SHUTDOWN_TIMEOUT, &n) != 0) {
            snprintf(err, errlen, "bad shutdown timeout '%s': must be 0..%d seconds", value,
                     PX_CONF_MAX_SHUTDOWN_TIMEOUT);
            return -1;
        }
        cf->shutdown_timeout = (int)n;
        return 0;
    case K_TLS_MODE:
        if (px_tls_parse_mode(value, &cf->tls_mode) != 0) {
            snprintf(err, errlen, "bad tls_mode '%s': use disabled, preferred or required", value);
            return -1;
        }
        return 0;
    case K_BACKEND_TLS:
        if (px_tls_parse_backend_mode(value, &cf->backend_tls) != 0) {
            snprintf(err, errlen,
                     "bad backend_tls '%s': use disabled, preferred, required, verify-ca or "
                     "verify-full",
                     value);
            return -1;
        }
        return 0;
    case K_TLS_CERT:
    case K_TLS_KEY:
    case K_TLS_CA:
    case K_BACKEND_TLS_CA:
    case K_BACKEND_TLS_CERT:
    case K_BACKEND_TLS_KEY: {
        char **dst = id == K_TLS_CERT           ? &cf->tls_cert
                     : id == K_TLS_KEY          ? &cf->tls_key
                     : id == K_TLS_CA           ? &cf->tls_ca
                     : id == K_BACKEND_TLS_CA   ? &cf->backend_tls_ca
                     : id == K_BACKEND_TLS_CERT ? &cf->backend_tls_cert
                                                : &cf->backend_tls_key;
        if (value[0] == '\0') {
            free(*dst); /* an empty value unsets the file */
            *dst = NULL;
        } else {
            set_str(dst, value);
        }
        return 0;
    }
    case K_LOG_LEVEL:
        if (px_log_parse_level(value, &cf->log_level) != 0) {
            snprintf(err, errlen, "bad log level '%s': use error, warn, info or debug", value);
            return -1;
        }
        return 0;
    }
    return -1;
}

struct ini_ctx {
    struct px_conf *cf;         /* being filled */
    const char *path;           /* for messages */
    char *err;                  /* first error */
    size_t errlen;
    bool failed;                /* an error was recorded */
};

/*
 * inih callback: one key. Returns 1 to continue, 0 on error; inih then
 * returns the line of the first error, which px_conf_load_file() prefixes.
 */
static int
on_ini_key(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *ctx = user;
    char why[256];
    size_t i;

    if (ctx->failed) {
        return 0;
    }
    if (strcmp(section, "mvproxy") != 0) {
        snprintf(ctx->err, ctx->errlen, "unknown section [%s] (expected [mvproxy])", section);
        ctx->failed = true;
        return 0;
    }
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(keys[i].ini, name) == 0) {
            if (apply(ctx->cf, keys[i].id, value, why, sizeof(why)) != 0) {
                snprintf(ctx->err, ctx->errlen, "%s", why);
                ctx->failed = true;
                return 0;
            }
            return 1;
        }
    }
    snprintf(ctx->err, ctx->errlen, "unknown key '%s'", name);
    ctx->failed = true;
    return 0;
}

int
px_conf_load_file(struct px_conf *cf, const char *path, char *err, size_t errlen)
{
    char why[256] = "";
    struct ini_ctx ctx = {cf, path, why, sizeof(why), false};
    FILE *f;
    int rc;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    rc = ini_parse_file(f, on_ini_key, &ctx);
    fclose(f);
    if (ctx.failed) {
        snprintf(err, errlen, "%s:%d: %s", path, rc, why);
        return -1;
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s:%d: syntax error", path, rc);
        return -1;
    }
    return 0;
}

void
px_conf_usage(FILE *out)
{
    fprintf(out,
            "Usage: mvproxy [options]\n"
            "MySQL-protocol proxy that rewrites queries onto materialized views.\n"
            "\n"
            "  --config FILE             INI file with a [mvproxy] section (keys: listen,\n"
            "                            backend, service_user, service_password,\n"
            "                            meta_schema, threads, log_level, refresh_tasks,\n"
            "                            commit_debounce_ms, catalog_poll_ms,\n"
            "                            refresh_log_bin, shutdown_timeout,\n"
            "                            max_statement_bytes, max_statement_tokens,\n"
            "                            max_parse_depth, rewrite_time_budget_ms,\n"
            "                            tls_mode, tls_cert, tls_key, tls_ca, backend_tls,\n"
            "                            backend_tls_ca, backend_tls_cert,\n"
            "                            backend_tls_key); flags override it\n"
            "  --listen HOST:PORT        client listen address (default %s)\n"
            "  --backend HOST:PORT       MySQL/MariaDB backend (default %s)\n"
            "  --service-user USER       service account for catalog work (default %s)\n"
            "  --service-password PASS   its password (or env MVPROXY_SERVICE_PASSWORD)\n"
            "  --meta-schema NAME        metadata schema (default %s)\n"
            "  --threads N               worker threads (default %d)\n"
            "  --log-level LEVEL         error, warn, info or debug (default info)\n"
            "  --refresh-tasks N         concurrent refresh tasks, 1..%d (default: env\n"
            "                            MVPROXY_REFRESH_TASKS, else 1)\n"
            "  --commit-debounce-ms MS   ON COMMIT views: refresh this long after the last\n"
            "                            write (default: env MVPROXY_COMMIT_DEBOUNCE_MS,\n"
            "                            else 1000)\n"
            "  --catalog-poll-ms MS      how often the metadata schema is polled for catalog\n"
            "                            changes made by other proxies (default: env\n"
            "                            MVPROXY_CATALOG_POLL_MS, else 1000)\n"
            "  --refresh-log-bin on|off  write refresh statements to the backend's binlog\n"
            "                            (default: env MVPROXY_REFRESH_LOG_BIN, else on;\n"
            "                            off needs BINLOG ADMIN, replicas then lack the\n"
            "                            view tables)\n"
            "  --shutdown-timeout SECS   on SIGTERM/SIGINT, let running statements and\n"
            "                            refreshes finish for up to SECS seconds, 0..%d\n"
            "                            (default %d); a second signal stops at once\n"
            "  --max-statement-bytes N   statements longer than N bytes are relayed without\n"
            "                            analysis (default %u; 0 = no limit)\n"
            "  --max-statement-tokens N  same for statements of more than N tokens\n"
            "                            (default %u; 0 = no limit)\n"
            "  --max-parse-depth N       statements nested deeper than N (estimated from the\n"
            "                            tokens) are relayed unparsed, 1..%u (default %u)\n"
            "  --rewrite-time-budget-ms MS  a rewrite decision taking longer gives up and\n"
            "                            relays the statement unchanged (default %u; 0 =\n"
            "                            no limit)\n"
            "  --freshness-fence-ms MS   before an answer from a view, wait up to MS for the\n"
            "                            binlog follower to read every change committed\n"
            "                            before the query; else relay it (default 50;\n"
            "                            0 = no fence)\n"
            "  --tls-mode MODE           TLS between clients and the proxy: disabled,\n"
            "                            preferred (default: offered, plaintext accepted)\n"
            "                            or required (plaintext clients get ERR 08004)\n"
            "  --tls-cert FILE           PEM certificate (chain) shown to clients; without\n"
            "                            it an ephemeral self-signed one is made at start\n"
            "                            (its SHA-256 fingerprint is logged)\n"
            "  --tls-key FILE            PEM private key of --tls-cert\n"
            "  --tls-ca FILE             ask clients for a certificate; one presented must\n"
            "                            verify against these CAs\n"
            "  --backend-tls MODE        TLS from the proxy to the backend: disabled\n"
            "                            (default), preferred, required, verify-ca or\n"
            "                            verify-full (also checks the backend host name);\n"
            "                            the engine's own connections follow it too\n"
            "  --backend-tls-ca FILE     CAs for verify-ca / verify-full (default: system)\n"
            "  --backend-tls-cert FILE   client certificate shown to the backend\n"
            "  --backend-tls-key FILE    its private key\n"
            "  --version                 print the version and exit\n"
            "  --help                    print this help and exit\n",
            PX_CONF_DEFAULT_LISTEN, PX_CONF_DEFAULT_BACKEND, PX_CONF_DEFAULT_USER,
            PX_CONF_DEFAULT_META, PX_CONF_DEFAULT_THREADS, PX_CONF_MAX_REFRESH_TASKS,
            PX_CONF_MAX_SHUTDOWN_TIMEOUT, PX_CONF_DEFAULT_SHUTDOWN_TIMEOUT,
            RW_DEFAULT_MAX_BYTES, RW_DEFAULT_MAX_TOKENS, RW_MAX_DEPTH_CEILING,
            RW_DEFAULT_MAX_DEPTH, RW_DEFAULT_TIME_BUDGET_MS);
}

/*
 * Split argv[*I] into flag NAME and VALUE: "--x=v" or "--x v" (consumes the
 * next argument). Returns 0, or -1 when the value is missing.
 */
static int
flag_value(int argc, char **argv, int *i, const char *flag, const char **value)
{
    size_t fl = strlen(flag);
    const char *a = argv[*i];

    if (strncmp(a, flag, fl) == 0 && a[fl] == '=') {
        *value = a + fl + 1;
        return 0;
    }
    if (*i + 1 >= argc) {
        return -1;
    }
    *value = argv[++*i];
    return 0;
}

/* Is ARG the flag FLAG, alone or as FLAG=...? */
static bool
is_flag(const char *arg, const char *flag)
{
    size_t fl = strlen(flag);

    return strncmp(arg, flag, fl) == 0 && (arg[fl] == '\0' || arg[fl] == '=');
}

enum px_conf_result
px_conf_load(int argc, char **argv, FILE *out, struct px_conf *cf, char *err, size_t errlen)
{
    const char *value, *env;
    char why[256];
    int i;
    size_t k;
    bool known;

    px_conf_defaults(cf);
    /* Pass 1: --help, --version, --config, and reject unknown flags early. */
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            px_conf_usage(out);
            return PX_CONF_EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0) {
            fprintf(out, "mvproxy %s\n", MVPROXY_VERSION);
            return PX_CONF_EXIT_OK;
        }
        if (is_flag(argv[i], "--config")) {
            if (flag_value(argc, argv, &i, "--config", &value) != 0) {
                snprintf(err, errlen, "--config needs a value");
                return PX_CONF_FAIL;
            }
            set_str(&cf->config_file, value);
            continue;
        }
        known = false;
        for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            if (is_flag(argv[i], keys[k].flag)) {
                known = true;
                if (flag_value(argc, argv, &i, keys[k].flag, &value) != 0) {
                    snprintf(err, errlen, "%s needs a value", keys[k].flag);
                    return PX_CONF_FAIL;
                }
                break;
            }
        }
        if (!known) {
            snprintf(err, errlen, "unknown option '%s' (see --help)", argv[i]);
            return PX_CONF_FAIL;
        }
    }
    if (cf->config_file != NULL && px_conf_load_file(cf, cf->config_file, err, errlen) != 0) {
        return PX_CONF_FAIL;
    }
    env = getenv("MVPROXY_SERVICE_PASSWORD");
    if (env != NULL) {
        set_str(&cf->service_password, env);
    }
    /* Pass 2: flags override the file and the environment. */
    for (i = 1; i < argc; i++) {
        if (is_flag(argv[i], "--config")) {
            flag_value(argc, argv, &i, "--config", &value);
            continue;
        }
        for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            if (is_flag(argv[i], keys[k].flag)) {
                flag_value(argc, argv, &i, keys[k].flag, &value);
                if (apply(cf, keys[k].id, value, why, sizeof(why)) != 0) {
                    snprintf(err, errlen, "%s: %s", keys[k].flag, why);
                    return PX_CONF_FAIL;
                }
                break;
            }
        }
    }
    return PX_CONF_RUN;
}
