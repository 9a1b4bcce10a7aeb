/*
 * rw_select.h - the select list of a SELECT block in the model
 * (rw_select.c): outputs and their names, ORDER BY ordinals, LIMIT text,
 * opaque window outputs. Internal to the model builder (rw_build.h); the
 * public rw_win_deterministic() it also defines is declared in rw_model.h.
 */
#ifndef RW_SELECT_H
#define RW_SELECT_H

#include "rw_parse.h"

struct build;

/*
 * Add select-list item N (a ResTarget) to B's model outputs: a star expands
 * to the columns of every entry in scope (or of one alias), anything else
 * becomes one output named as MariaDB names it (alias, else the item's
 * text). Failures go to B->err.
 */
void rw_select_item(struct build *b, const PgQuery__Node *n);

/* Integer value of the A_Const integer node N (an ORDER BY ordinal), or -1
 * when N is anything else. */
long rw_select_ordinal(const PgQuery__Node *n);

/* Original text (owned by the caller) of a LIMIT/OFFSET value N; NULL when
 * N is not an integer literal (the reason in B->err) or on OOM. */
char *rw_select_limit_text(struct build *b, const PgQuery__Node *n);

/*
 * Make opaque (e = NULL) the outputs of B's model whose window functions
 * are not deterministic (rw_win_deterministic: ties broken arbitrarily),
 * and record why in the model's opaque_why. Needs the predicate analysis.
 * OOM goes to B->err.
 */
void rw_select_win_opaque(struct build *b);

#endif /* RW_SELECT_H */
