/*
 * cat_refresh_clause.c - a view's refresh clause (see cat_refresh_clause.h):
 * its canonical text, reading that text back, copying and freeing it.
 */
#include "cat_refresh_clause.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_util.h"

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
