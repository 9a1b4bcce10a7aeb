/*
 * cat_refresh_clause.c - a view's refresh clause (see cat_refresh_clause.h):
 * its canonical text, reading that text back, copying and freeing it.
 */
#include "cat_refresh_clause.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_internal.h"

char *
cat_refresh_text(const struct cat_refresh_clause *rc)
{
    struct cat_buf b = {0};
    static const char *const methods[] = {"AUTO", "COMPLETE", "AUTO", "NEVER", "FAST", "AUTO"};
    cat_buf_puts(&b, "REFRESH ");
    cat_buf_puts(&b, methods[rc->method]);
    switch (rc->trigger) {
    case CAT_RT_NONE:
    case CAT_RT_MANUAL:
        cat_buf_puts(&b, " ON MANUAL");
        break;
    case CAT_RT_DEMAND:
        cat_buf_puts(&b, " ON DEMAND");
        break;
    case CAT_RT_COMMIT:
        cat_buf_puts(&b, " ON COMMIT");
        break;
    case CAT_RT_SCHEDULE:
        cat_buf_printf(&b, " ON SCHEDULE EVERY %lld %s", (long long)rc->every_n,
                       rc->unit ? rc->unit : "");
        if (rc->starts != NULL) {
            cat_buf_puts(&b, " STARTS ");
            cat_buf_lit(&b, rc->starts);
        }
        break;
    case CAT_RT_EVERY:
        cat_buf_puts(&b, " EVERY (INTERVAL ");
        cat_buf_lit(&b, rc->interval ? rc->interval : "");
        cat_buf_puts(&b, ")");
        break;
    }
    return cat_buf_take(&b);
}

int
cat_refresh_clause_of_text(const char *text, struct cat_refresh_clause *out, char *err,
                           size_t errlen)
{
    /* the clause's own parser (cat_parse.c refresh_clause) behind a
     * statement that carries it: the text is what cat_refresh_text made */
    struct cat_buf b = {0};
    struct cat_stmt st;
    struct mvp_reply perr;
    int rc;
    memset(out, 0, sizeof(*out));
    memset(&st, 0, sizeof(st));
    mvp_reply_init(&perr);
    cat_buf_puts(&b, "ALTER MATERIALIZED VIEW mvp_clause ");
    cat_buf_puts(&b, text != NULL ? text : "");
    rc = cat_parse(b.p, b.len, &st, &perr) == 1 && st.kind == CAT_ST_ALTER_REFRESH ? 0 : -1;
    if (rc == 0) {
        *out = st.refresh;
        memset(&st.refresh, 0, sizeof(st.refresh)); /* moved to OUT */
    } else {
        snprintf(err, errlen, "refresh clause '%s' not understood%s%s", text != NULL ? text : "",
                 perr.kind == MVP_REPLY_ERR && perr.err_msg != NULL ? ": " : "",
                 perr.kind == MVP_REPLY_ERR && perr.err_msg != NULL ? perr.err_msg : "");
    }
    cat_stmt_free(&st);
    mvp_reply_clear(&perr);
    cat_buf_free(&b);
    return rc;
}

void
cat_refresh_clause_copy(struct cat_refresh_clause *dst, const struct cat_refresh_clause *src)
{
    *dst = *src;
    dst->unit = src->unit != NULL ? cat_xstrdup(src->unit) : NULL;
    dst->starts = src->starts != NULL ? cat_xstrdup(src->starts) : NULL;
    dst->interval = src->interval != NULL ? cat_xstrdup(src->interval) : NULL;
}

void
cat_refresh_clause_free(struct cat_refresh_clause *rc)
{
    free(rc->unit);
    free(rc->starts);
    free(rc->interval);
    memset(rc, 0, sizeof(*rc));
}
