"""SQLAlchemy (on pymysql) in the real-client matrix (tests/clients/README.md):
its engine's connect-time queries, text() with bound parameters, errors, a
transaction, and table reflection (`inspect().get_columns`, `Table(...,
autoload_with=engine)`: SHOW CREATE TABLE and friends) as the tool check."""
import os
import sys
import traceback

import sqlalchemy as sa

E = os.environ
RUN_ID = int(E["MVC_ID"])
CHECKS = ["connect", "plain", "prepared", "rewrite", "rewrite_prep", "error", "multi",
          "big", "txn", "tls", "change_user", "reset", "tool"]
engine = sa.create_engine("mysql+pymysql://%s:%s@%s:%s/%s" % (
    E["MVC_USER"], E["MVC_PASS"], E["MVC_HOST"], E["MVC_PORT"], E["MVC_DB"]))
state = {}


def fmt(v):
    return "\\N" if v is None else str(v)


def q(sql, **params):
    res = state["c"].execute(sa.text(sql), params)
    if res.returns_rows:
        for r in res:
            print("\t".join(fmt(v) for v in r))


def c_connect():
    state["c"] = engine.connect()
    q("SELECT 1+1, DATABASE()")


def c_error():
    try:
        q("SELECT * FROM no_such_table")
        print("no error")
    except sa.exc.DBAPIError as e:
        print("errno %d" % e.orig.args[0])
    q("SELECT 'still'")


def c_txn():
    with state["c"].begin():
        q("INSERT INTO txn_t (id) VALUES (:id)", id=RUN_ID)
        q("SELECT COUNT(*) FROM txn_t WHERE id = :id", id=RUN_ID)
        state["c"].get_transaction().rollback()
    q("SELECT COUNT(*) FROM txn_t WHERE id = :id", id=RUN_ID)


def c_tool():
    insp = sa.inspect(engine)
    print("tables " + ",".join(sorted(insp.get_table_names())))
    for name in ("items", "blobs", "mv_region"):
        for col in insp.get_columns(name):
            print("%s.%s %s nullable=%s" % (name, col["name"], col["type"], col["nullable"]))
        print("%s pk %s" % (name, insp.get_pk_constraint(name)["constrained_columns"]))
        print("%s indexes %s" % (name, sorted(i["name"] for i in insp.get_indexes(name))))
    t = sa.Table("items", sa.MetaData(), autoload_with=engine)
    print("autoload " + " ".join("%s:%r" % (c.name, c.type) for c in t.columns))
    with engine.connect() as c2:
        n = c2.execute(sa.select(sa.func.count()).select_from(t).where(t.c.id <= 40)).scalar()
        print("count via Table %d" % n)


def na():
    print("NA")


checks = {
    "connect": c_connect,
    "plain": lambda: q("SELECT id, name, region, amount, created FROM items WHERE id <= 40 ORDER BY id"),
    # bound parameters: pymysql expands them on the client
    "prepared": lambda: q("SELECT id, name, amount FROM items WHERE id BETWEEN :a AND :b ORDER BY id",
                          a=10, b=30),
    "rewrite": lambda: q("SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items "
                         "GROUP BY region ORDER BY region"),
    "rewrite_prep": lambda: q("SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items "
                              "WHERE category = :c GROUP BY category", c="books"),
    "error": c_error,
    "multi": na, "big": na,   # what pymysql does (its own row)
    "txn": c_txn,
    "tls": na, "change_user": na, "reset": na,
    "tool": c_tool,
}
for name in CHECKS:
    print("@@ " + name, flush=True)
    try:
        checks[name]()
    except Exception as e:
        print("EXC %s: %s" % (type(e).__name__, str(e)[:300]))
        traceback.print_exc()
        if name == "connect":
            sys.exit(1)
    sys.stdout.flush()
