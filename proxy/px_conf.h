/*
 * px_conf.h - the proxy's settings: defaults, the INI file ([mvproxy]
 * section, keys mirror the flags) and command-line flags (SPEC §2).
 * Precedence, lowest first: defaults, --config file, the environment
 * (MVPROXY_SERVICE_PASSWORD), flags. The refresh engine settings
 * (refresh_tasks, commit_debounce_ms, catalog_poll_ms, refresh_log_bin)
 * default to 0 = "not configured"; the catalog then falls back to the
 * environment variables MVPROXY_REFRESH_TASKS / MVPROXY_COMMIT_DEBOUNCE_MS /
 * MVPROXY_CATALOG_POLL_MS / MVPROXY_REFRESH_LOG_BIN, else its built-in
 * defaults.
 */
#ifndef PX_CONF_H
#define PX_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "px_log.h"
#include "px_tls.h"

#define PX_CONF_DEFAULT_LISTEN      "127.0.0.1:6033"
#define PX_CONF_DEFAULT_BACKEND     "127.0.0.1:3306"
#define PX_CONF_DEFAULT_USER        "mvproxy"
#define PX_CONF_DEFAULT_META        "mvproxy_meta"
#define PX_CONF_DEFAULT_THREADS     2
#define PX_CONF_MAX_THREADS         256
#define PX_CONF_MAX_REFRESH_TASKS   64
#define PX_CONF_MAX_INTERVAL_MS     86400000  /* one day */
#define PX_CONF_DEFAULT_FENCE_MS    50        /* freshness fence wait (issue 12) */
#define PX_CONF_MAX_FENCE_MS        10000
#define PX_CONF_DEFAULT_SHUTDOWN_TIMEOUT 30   /* seconds of drain on SIGTERM */
#define PX_CONF_MAX_SHUTDOWN_TIMEOUT 86400    /* one day */
#define PX_CONF_MAX_STATEMENT       (1LL << 30) /* max_statement_bytes / _tokens ceiling */

struct px_conf {
    char *config_file;          /* --config FILE or NULL (owned) */
    char *listen_host;          /* listen address host part (owned) */
    unsigned listen_port;       /* listen TCP port (0 = any free port) */
    char *backend_host;         /* backend host (owned) */
    unsigned backend_port;      /* backend TCP port */
    char *service_user;         /* service account (owned) */
    char *service_password;     /* its password, "" for none (owned) */
    char *meta_schema;          /* metadata schema (owned) */
    int threads;                /* worker threads, 1..PX_CONF_MAX_THREADS */
    enum px_log_level log_level; /* most verbose level printed */
    int refresh_tasks;          /* concurrent refresh tasks, 0 = not configured (env, else 1) */
    long long commit_debounce_ms; /* ON COMMIT debounce, 0 = not configured (env, else 1000) */
    long long catalog_poll_ms;  /* catalog poll interval, 0 = not configured (env, else 1000) */
    int refresh_log_bin;        /* refresh writes binlogged: 1 on, -1 off (sql_log_bin = 0),
                                 * 0 = not configured (env MVPROXY_REFRESH_LOG_BIN, else on) */
    int shutdown_timeout;       /* seconds the SIGTERM drain waits for running work (0 = none) */
    long long max_statement_bytes;  /* analysis size budget, bytes (0 = none; rw_limits.h) */
    long long max_statement_tokens; /* analysis size budget, tokens (0 = none) */
    long long max_parse_depth;  /* estimated parse-tree depth limit, 1..RW_MAX_DEPTH_CEILING */
    long long rewrite_time_budget_ms; /* rewrite decision time budget, ms (0 = none) */
    long long freshness_fence_ms; /* longest wait for the binlog follower before an answer
                                   * from a view, ms (0 = no fence; cat_engine.h) */
    enum px_tls_mode tls_mode;  /* client-side TLS (default preferred) */
    char *tls_cert;             /* PEM certificate (chain) for clients, NULL = ephemeral (owned) */
    char *tls_key;              /* its PEM private key or NULL (owned) */
    char *tls_ca;               /* CA for client certificates or NULL = none asked (owned) */
    enum px_backend_tls backend_tls; /* proxy -> backend TLS (default disabled) */
    char *backend_tls_ca;       /* CA for the backend certificate or NULL = system (owned) */
    char *backend_tls_cert;     /* client certificate for the backend or NULL (owned) */
    char *backend_tls_key;      /* its private key or NULL (owned) */
};

enum px_conf_result {
    PX_CONF_RUN = 0,            /* settings complete: start the proxy */
    PX_CONF_EXIT_OK,            /* --help or --version printed: exit 0 */
    PX_CONF_FAIL,               /* bad flag, file or value: ERR says why, exit non-zero */
};

/* Fill CF with the defaults (allocates the strings; free with px_conf_free()). */
void px_conf_defaults(struct px_conf *cf);

/* Free the strings CF owns and zero it. */
void px_conf_free(struct px_conf *cf);

/*
 * Build the configuration from ARGC/ARGV (flags as `--flag VALUE` or
 * `--flag=VALUE`): defaults, then the --config file, then the environment,
 * then the flags. Fills CF (caller frees with px_conf_free() whatever the
 * result). --help/--version print to OUT and return PX_CONF_EXIT_OK. On
 * PX_CONF_FAIL writes a one-line reason into ERR (ERRLEN bytes).
 */
enum px_conf_result px_conf_load(int argc, char **argv, FILE *out, struct px_conf *cf, char *err,
                                 size_t errlen);

/*
 * Apply the INI file PATH to CF. Only the [mvproxy] section is accepted;
 * unknown sections or keys and bad values are errors reported as
 * "PATH:LINE: message" in ERR. Returns 0 or -1.
 */
int px_conf_load_file(struct px_conf *cf, const char *path, char *err, size_t errlen);

/*
 * Split "HOST:PORT" (or "[v6]:PORT") S into a new *HOST (owned) and *PORT.
 * Returns 0, or -1 with a reason in ERR.
 */
int px_conf_parse_hostport(const char *s, char **host, unsigned *port, char *err, size_t errlen);

/* Print the --help text to OUT. */
void px_conf_usage(FILE *out);

#endif /* PX_CONF_H */
