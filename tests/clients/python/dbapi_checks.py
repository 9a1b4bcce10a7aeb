"""The matrix checks (tests/clients/README.md) over a Python DB-API driver.

pymysql_client.py and mysqldb_client.py call run(); both drivers expand
%s parameters on the client (neither has server-side prepares).
"""
import os
import sys
import traceback

E = os.environ
RUN_ID = int(E["MVC_ID"])
CHECKS = ["connect", "plain", "prepared", "rewrite", "rewrite_prep", "error", "multi",
          "big", "txn", "tls", "change_user", "reset", "tool"]


def big_value():
    """20 MiB: "0000000 0000001 ..." (every 8 bytes a different number)."""
    return "".join("%07d " % k for k in range(20 * 1024 * 1024 // 8))


def fmt(v):
    if v is None:
        return "\\N"
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def rows(cur):
    for r in cur.fetchall():
        print("\t".join(fmt(v) for v in r))


def q(cur, sql, args=None):
    cur.execute(sql, args)
    if cur.description is not None:
        rows(cur)


def run(connect, errno_of, multi_flag, change_user=None, reset=None, tls_connect=None):
    """CONNECT(port) -> connection; ERRNO_OF(exception) -> int."""
    checks = {}

    def check(name):
        def deco(fn):
            checks[name] = fn
            return fn
        return deco

    state = {}

    @check("connect")
    def _():
        state["c"] = connect(int(E["MVC_PORT"]), multi_flag)
        q(state["c"].cursor(), "SELECT 1+1, DATABASE()")

    @check("plain")
    def _():
        q(state["c"].cursor(),
          "SELECT id, name, region, amount, created FROM items WHERE id <= 40 ORDER BY id")

    @check("prepared")
    def _():
        q(state["c"].cursor(),
          "SELECT id, name, amount FROM items WHERE id BETWEEN %s AND %s ORDER BY id", (10, 30))

    @check("rewrite")
    def _():
        q(state["c"].cursor(), "SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items "
                               "GROUP BY region ORDER BY region")

    @check("rewrite_prep")
    def _():
        q(state["c"].cursor(), "SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items "
                               "WHERE category = %s GROUP BY category", ("books",))

    @check("error")
    def _():
        cur = state["c"].cursor()
        try:
            cur.execute("SELECT * FROM no_such_table")
            print("no error")
        except Exception as e:  # the driver's ProgrammingError
            print("errno %d" % errno_of(e))
        q(cur, "SELECT 'still'")

    @check("multi")
    def _():
        cur = state["c"].cursor()
        cur.execute("SELECT 1 AS a; SELECT 'two' AS b, 3 AS c")
        rows(cur)
        while cur.nextset():
            print("--")
            rows(cur)

    @check("big")
    def _():
        v = big_value()
        cur = state["c"].cursor()
        cur.execute("INSERT INTO blobs (id, v) VALUES (%s, %s)", (RUN_ID, v))
        state["c"].commit()
        cur.execute("SELECT v FROM blobs WHERE id = %s", (RUN_ID,))
        got = fmt(cur.fetchone()[0])
        print("len %d equal %s" % (len(got), "yes" if got == v else "no"))
        cur.execute("DELETE FROM blobs WHERE id = %s", (RUN_ID,))
        state["c"].commit()

    @check("txn")
    def _():
        c = state["c"]
        cur = c.cursor()
        c.begin() if hasattr(c, "begin") else cur.execute("BEGIN")
        cur.execute("INSERT INTO txn_t (id) VALUES (%s)", (RUN_ID,))
        q(cur, "SELECT COUNT(*) FROM txn_t WHERE id = %s", (RUN_ID,))
        c.rollback()
        q(cur, "SELECT COUNT(*) FROM txn_t WHERE id = %s", (RUN_ID,))

    @check("tls")
    def _():
        if not E.get("MVC_TLS_PORT") or tls_connect is None:
            print("NA")
            return
        t = tls_connect(int(E["MVC_TLS_PORT"]))
        q(t.cursor(), "SELECT 'tls'")
        t.close()

    @check("change_user")
    def _():
        if change_user is None:
            print("NA")
            return
        change_user(state["c"], "app", "app_pw", E["MVC_DB"])
        q(state["c"].cursor(), "SELECT CURRENT_USER(), DATABASE()")
        change_user(state["c"], E["MVC_USER"], E["MVC_PASS"], E["MVC_DB"])
        q(state["c"].cursor(), "SELECT CURRENT_USER()")

    @check("reset")
    def _():
        if reset is None:
            print("NA")
            return
        cur = state["c"].cursor()
        q(cur, "SET @v = 42")
        q(cur, "SELECT @v")
        reset(state["c"])
        q(state["c"].cursor(), "SELECT @v IS NULL, DATABASE()")

    @check("tool")
    def _():
        print("NA")

    for name in CHECKS:
        print("@@ " + name, flush=True)
        try:
            checks[name]()
        except Exception as e:
            print("EXC %s: %s" % (type(e).__name__, str(e)[:300]))
            traceback.print_exc()
            if name == "connect":
                return 1
        sys.stdout.flush()
    return 0
