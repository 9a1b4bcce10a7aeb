/*
 * cat_props.c - PROPERTIES of CREATE / ALTER MATERIALIZED VIEW ... SET
 * (cat_props.h): validating each key and value (SPEC §3) into the
 * effective settings of a view.
 */
#include "cat_props.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_util.h"

/* Parse a non-negative decimal integer (whole string); false when malformed. */
static bool
parse_uint(const char *s, int64_t *out)
{
    char *end;
    long long v;
    if (s == NULL || *s == '\0' || !isdigit((unsigned char)*s)) {
        return false;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0) {
        return false;
    }
    *out = v;
    return true;
}

static bool
parse_bool(const char *s, bool *out)
{
    if (cat_streq_ci(s, "true") || cat_streq_ci(s, "1")) {
        *out = true;
        return true;
    }
    if (cat_streq_ci(s, "false") || cat_streq_ci(s, "0")) {
        *out = false;
        return true;
    }
    return false;
}

/* Split a comma list of table names into OUT (trimmed, non-empty). */
static int
split_tables(const char *s, struct cat_props *out)
{
    const char *p = s;
    while (*p != '\0') {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n > 0 && isspace((unsigned char)*p)) {
            p++;
            n--;
        }
        while (n > 0 && isspace((unsigned char)p[n - 1])) {
            n--;
        }
        if (n == 0) {
            return -1;
        }
        out->excluded = realloc(out->excluded, (out->n_excluded + 1) * sizeof(char *));
        if (out->excluded == NULL) {
            abort();
        }
        {
            char *name = cat_xstrndup(p, n), *q;
            /* allow `db`.`t` and "db.t": strip backticks */
            for (q = name; *q != '\0'; q++) {
                if (*q == '`') {
                    memmove(q, q + 1, strlen(q));
                    q--;
                }
            }
            out->excluded[out->n_excluded++] = name;
        }
        if (e == NULL) {
            break;
        }
        p = e + 1;
    }
    return 0;
}

void
cat_props_free(struct cat_props *p)
{
    cat_strv_free(p->excluded, p->n_excluded);
    memset(p, 0, sizeof(*p));
}

int
cat_props_validate(size_t n, const struct cat_prop *props, struct cat_props *out,
                   struct mvp_reply *err)
{
    /* Doris / StarRocks storage keys that mean nothing on MariaDB: accepted, ignored. */
    static const char *const ignored[] = {
        "replication_num", "replication_allocation", "storage_medium", "storage_cooldown_time",
        "workload_group", "compression", "partition_date_format", "enable_nondeterministic_function_check"};
    size_t i, j;
    memset(out, 0, sizeof(*out));
    out->rewrite = -1;
    for (i = 0; i < n; i++) {
        const char *k = props[i].key, *v = props[i].value;
        bool ok = true, known = true;
        int64_t num;
        for (j = 0; j < i; j++) {
            if (strcmp(props[j].key, k) == 0) {
                mvp_reply_err(err, 1231, "42000", "Property '%s' is given twice", k);
                cat_props_free(out);
                return -1;
            }
        }
        if (strcmp(k, "grace_period") == 0) {
            ok = parse_uint(v, &num);
            if (ok) {
                out->grace_period_s = num;
            }
        } else if (strcmp(k, "excluded_trigger_tables") == 0) {
            ok = split_tables(v, out) == 0;
        } else if (strcmp(k, "partition_sync_limit") == 0 ||
                   strcmp(k, "refresh_partition_num") == 0) {
            ok = parse_uint(v, &num) && num > 0;
        } else if (strcmp(k, "incremental_column") == 0) {
            /* an identifier; checked against the base table at refresh (cat_incr.c) */
            size_t c;
            ok = v[0] != '\0' && strlen(v) <= 64;
            for (c = 0; ok && v[c] != '\0'; c++) {
                ok = (v[c] >= 'a' && v[c] <= 'z') || (v[c] >= 'A' && v[c] <= 'Z') ||
                     (v[c] >= '0' && v[c] <= '9') || v[c] == '_' || v[c] == '$';
            }
        } else if (strcmp(k, "partition_sync_time_unit") == 0) {
            ok = cat_streq_ci(v, "DAY") || cat_streq_ci(v, "MONTH") || cat_streq_ci(v, "YEAR");
        } else if (strcmp(k, "query_rewrite_consistency") == 0) {
            if (cat_streq_ci(v, "ENFORCED")) {
                out->consistency = CAT_CONSISTENCY_ENFORCED;
            } else if (cat_streq_ci(v, "LOOSE")) {
                out->consistency = CAT_CONSISTENCY_LOOSE;
            } else if (cat_streq_ci(v, "DISABLE")) {
                out->consistency = CAT_CONSISTENCY_DISABLE;
            } else {
                ok = false;
            }
        } else if (strcmp(k, "enable_nondeterministic_function") == 0) {
            ok = parse_bool(v, &out->nondeterministic_ok);
        } else if (strcmp(k, "use_for_rewrite") == 0) {
            bool b = true;
            ok = parse_bool(v, &b);
            out->rewrite = b ? 1 : 0;
        } else {
            known = false;
            for (j = 0; j < sizeof(ignored) / sizeof(ignored[0]); j++) {
                if (strcmp(k, ignored[j]) == 0) {
                    known = true;
                }
            }
        }
        if (!known) {
            mvp_reply_err(err, 1911, "HY000",
                          "Unknown materialized view property '%s' (known: grace_period, "
                          "excluded_trigger_tables, partition_sync_limit, "
                          "partition_sync_time_unit, query_rewrite_consistency, "
                          "enable_nondeterministic_function, refresh_partition_num, incremental_column)",
                          k);
            cat_props_free(out);
            return -1;
        }
        if (!ok) {
            const char *want = "a valid value";
            if (strcmp(k, "grace_period") == 0) {
                want = "a whole number of seconds >= 0";
            } else if (strcmp(k, "partition_sync_time_unit") == 0) {
                want = "DAY, MONTH or YEAR";
            } else if (strcmp(k, "query_rewrite_consistency") == 0) {
                want = "ENFORCED, LOOSE or DISABLE";
            } else if (strcmp(k, "enable_nondeterministic_function") == 0 ||
                       strcmp(k, "use_for_rewrite") == 0) {
                want = "true or false";
            } else if (strcmp(k, "excluded_trigger_tables") == 0) {
                want = "a comma-separated list of table names";
            } else {
                want = "a whole number > 0";
            }
            mvp_reply_err(err, 1231, "42000", "Property '%s' can't be set to '%s': expected %s",
                          k, v, want);
            cat_props_free(out);
            return -1;
        }
    }
    return 0;
}
