/*
 * rw_pred.h - predicate analysis of a model (rw_pred.c, Goldstein & Larson
 * §3.1): equivalence classes (union-find over column = column), the typed
 * range of each class, the residual conjuncts. The types are in rw_model.h.
 */
#ifndef RW_PRED_H
#define RW_PRED_H

struct rw_model;
struct rw_pred;

/* (Re)compute M->pred from M->conj. Returns 0 or -1 on OOM. */
int rw_model_analyze(struct rw_model *m);

/* Free the predicate analysis PRED (not the conjuncts it borrows) and zero it. */
void rw_pred_free(struct rw_pred *pred);

/* Find the union-find node of (TAB, COL) in PRED; -1 when absent. */
int rw_pred_find(const struct rw_pred *pred, int tab, const char *col);

/* Root of node I. */
int rw_pred_root(const struct rw_pred *pred, int i);

#endif /* RW_PRED_H */
