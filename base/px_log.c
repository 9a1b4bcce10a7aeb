/*
 * px_log.c - leveled logging to stderr (see px_log.h). Formats each line into
 * a stack buffer and emits it with one write(2) so that worker threads do not
 * interleave partial lines.
 */
#include "px_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = PX_LOG_INFO;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void
px_log_set_level(enum px_log_level level)
{
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

bool
px_log_enabled(enum px_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

int
px_log_parse_level(const char *name, enum px_log_level *level)
{
    if (name == NULL) {
        return -1;
    }
    if (strcasecmp(name, "error") == 0) {
        *level = PX_LOG_ERROR;
    } else if (strcasecmp(name, "warn") == 0 || strcasecmp(name, "warning") == 0) {
        *level = PX_LOG_WARN;
    } else if (strcasecmp(name, "info") == 0) {
        *level = PX_LOG_INFO;
    } else if (strcasecmp(name, "debug") == 0) {
        *level = PX_LOG_DEBUG;
    } else {
        return -1;
    }
    return 0;
}

/* Format and write one line; AP is consumed. */
static void
log_vwrite(enum px_log_level level, const char *file, int line, const char *fmt, va_list ap)
{
    char buf[2048];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int r;
    const char *base;

    if (!px_log_enabled(level)) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    r = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ mvproxy[%ld] %s ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ts.tv_nsec / 1000000L, (long)getpid(), level_names[level]);
    n = r > 0 ? (size_t)r : 0;
    if (px_log_enabled(PX_LOG_DEBUG) && file != NULL) {
        base = strrchr(file, '/');
        base = base ? base + 1 : file;
        r = snprintf(buf + n, sizeof(buf) - n, "%s:%d ", base, line);
        n += r > 0 ? (size_t)r : 0;
        if (n >= sizeof(buf)) {
            n = sizeof(buf) - 1;
        }
    }
    r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
    n += r > 0 ? (size_t)r : 0;
    if (n >= sizeof(buf) - 1) {
        n = sizeof(buf) - 2;
    }
    buf[n++] = '\n';
    if (write(STDERR_FILENO, buf, n) < 0) {
        /* nowhere left to report it */
    }
}

void
px_log_write(enum px_log_level level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(level, file, line, fmt, ap);
    va_end(ap);
}

void
px_fatal_at(const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    px_log_write(PX_LOG_ERROR, file, line, "fatal at %s:%d: %s", file, line, msg);
    exit(1);
}
