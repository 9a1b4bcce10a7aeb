/*
 * px_log.h - leveled logging to stderr for the proxy.
 *
 * One line per event: "2024-05-01T12:00:00.123Z mvproxy[pid] LEVEL message".
 * debug is guarded by a cheap level check, so leaving px_log_debug() calls in
 * the hot path costs one atomic load when debug logging is off. Never log SQL
 * text above debug level.
 */
#ifndef PX_LOG_H
#define PX_LOG_H

#include <stdbool.h>

enum px_log_level {
    PX_LOG_ERROR = 0,   /* failures the operator must see */
    PX_LOG_WARN,        /* unexpected but handled */
    PX_LOG_INFO,        /* start, stop, listening (default) */
    PX_LOG_DEBUG,       /* per-connection state changes, protocol detail */
};

/* Set the most verbose level that is printed (thread-safe). */
void px_log_set_level(enum px_log_level level);

/* True when messages of LEVEL are printed. */
bool px_log_enabled(enum px_log_level level);

/*
 * Parse NAME ("error", "warn", "info", "debug"; case-insensitive; "warning"
 * also accepted) into *LEVEL. Returns 0, or -1 when NAME is unknown.
 */
int px_log_parse_level(const char *name, enum px_log_level *level);

/*
 * Write one log line at LEVEL from FILE:LINE (FILE/LINE are printed only at
 * debug level) with a printf-style FMT. The line is written with a single
 * write(2), so lines from different threads do not interleave.
 */
void px_log_write(enum px_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Log FMT at error level with FILE:LINE and exit(1). Does not return. */
_Noreturn void px_fatal_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define px_log_error(...) px_log_write(PX_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define px_log_warn(...)  px_log_write(PX_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define px_log_info(...)                                                                        \
    do {                                                                                        \
        if (px_log_enabled(PX_LOG_INFO)) {                                                      \
            px_log_write(PX_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__);                         \
        }                                                                                       \
    } while (0)
#define px_log_debug(...)                                                                       \
    do {                                                                                        \
        if (px_log_enabled(PX_LOG_DEBUG)) {                                                     \
            px_log_write(PX_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__);                        \
        }                                                                                       \
    } while (0)
#define px_fatal(...) px_fatal_at(__FILE__, __LINE__, __VA_ARGS__)

#endif /* PX_LOG_H */
