#!/usr/bin/env python3
"""fuzz/make_corpus.py - (re)build the seed corpus in fuzz/corpus/<target>/
from the repository's own material: the rewrite cases (tests/cases/*.case),
the conformance corpus (../shared/conformance), the admin statements the
tests send, and hand-built MySQL packets. Deterministic; a few hundred files.
Usage: python3 fuzz/make_corpus.py [SHARED_DIR]"""
import glob, hashlib, json, os, re, struct, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared")
OUT = os.path.join(ROOT, "fuzz", "corpus")


def put(target, data, limit):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    if len(os.listdir(d)) >= limit:
        return
    open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb").write(data)


# --- SQL: case queries and view definitions, conformance queries
sql = []
for f in sorted(glob.glob(os.path.join(ROOT, "tests", "cases", "*.case"))):
    cur = None
    for line in open(f, encoding="utf-8", errors="replace"):
        if line.startswith("-- query:") or line.startswith("-- view "):
            cur = []
            sql.append(cur)
        elif line.startswith("-- ") or line.startswith("#"):
            cur = None
        elif cur is not None and line.strip():
            cur.append(line.rstrip("\n"))
sql = ["\n".join(s) for s in sql if s]
conf = os.path.join(SHARED, "conformance", "doris_visible.jsonl")
cases = []
if os.path.exists(conf):
    cases = [json.loads(x) for x in open(conf)]
for c in cases[::8]:
    m = c.get("mariadb", {})
    for k in ("query_sql", "mv_sql"):
        if m.get(k):
            sql.append(m[k])
# the shapes of issue 9 (deep trees), kept small
sql.append("SELECT SUM(" + "+".join(["a"] * 200) + ") FROM t")
sql.append("SELECT " + "(" * 300 + "1" + ")" * 300)
sql.append("SELECT * FROM t WHERE " + " AND ".join("a = %d" % i for i in range(200)))
sql.append("SELECT * FROM t WHERE a IN (" + ",".join(str(i) for i in range(1000)) + ")")
sql.append("SELECT CASE " + " ".join("WHEN a = %d THEN %d" % (i, i) for i in range(200)) + " END FROM t")
for s in sql:
    put("sql", s, 300)

# --- admin statements: the tests' own, then CREATE ... AS from the conformance corpus
admin = set()
pat = re.compile(r'"((?:CREATE|ALTER|DROP|REFRESH|SHOW|EXPLAIN REWRITE|PAUSE|RESUME|CANCEL|'
                 r'SELECT \* FROM (?:mv_infos|tasks))[^"\\]*(?:\\.[^"\\]*)*)"', re.I)
for f in sorted(glob.glob(os.path.join(ROOT, "tests", "*", "*.c"))):
    for m in pat.finditer(open(f, encoding="utf-8", errors="replace").read()):
        s = m.group(1).encode().decode("unicode_escape", errors="replace")
        if "%" not in s and ("MATERIALIZED" in s.upper() or "REWRITE" in s.upper() or
                             "CONSTRAINT" in s.upper() or "mv_infos" in s or "tasks(" in s):
            admin.add(s)
for f in sorted(glob.glob(os.path.join(ROOT, "examples", "views.sql"))):
    for s in open(f).read().split(";"):
        if "MATERIALIZED" in s.upper():
            admin.add(s.strip())
for c in cases[::12]:
    m = c.get("mariadb", {})
    if m.get("mv_sql"):
        props = ", ".join("'%s' = '%s'" % kv for kv in (c.get("mv_properties") or {}).items())
        part = " PARTITION BY (%s)" % c["mv_partition_by"] if c.get("mv_partition_by") else ""
        admin.add("CREATE MATERIALIZED VIEW %s BUILD DEFERRED %s%s%s AS %s" % (
            c.get("mv_name") or "mv", c.get("mv_refresh") or "REFRESH COMPLETE ON MANUAL", part,
            " PROPERTIES (%s)" % props if props else "", m["mv_sql"]))
        admin.add("EXPLAIN REWRITE " + (m.get("query_sql") or m["mv_sql"]))
for s in sorted(admin):
    put("admin", s, 300)


# --- packets: payloads prefixed by the flag byte fuzz_packet.c reads
def lenenc(n):
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def frame(payload, seq=0):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


CAPS = 0x000FA685  # protocol 41, secure conn, plugin auth, connect with db, lenenc auth
greet = (b"\x0a" + b"10.11.6-MariaDB\0" + struct.pack("<I", 42) + b"abcdefgh\0" +
         struct.pack("<H", 0xf7fe) + b"\x2d" + struct.pack("<H", 2) + struct.pack("<H", 0x81ff) +
         b"\x15" + b"\0" * 6 + struct.pack("<I", 0x1d) + b"ijklmnopqrst\0" +
         b"mysql_native_password\0")
resp = (struct.pack("<IIB", CAPS, 1 << 24, 45) + b"\0" * 19 + struct.pack("<I", 0x1d) +
        b"alice\0" + lenenc(20) + b"x" * 20 + b"test\0" + b"mysql_native_password\0" +
        lenenc(12) + lenenc(4) + b"_pid" + lenenc(5) + b"12345")
ssl = struct.pack("<IIB", CAPS | 0x800, 1 << 24, 45) + b"\0" * 23
chg = b"\x11" + b"bob\0" + bytes([20]) + b"y" * 20 + b"db2\0" + struct.pack("<H", 45) + \
      b"mysql_native_password\0"
ok = b"\x00" + lenenc(3) + lenenc(0) + struct.pack("<HH", 0x0002, 0)
okinfo = b"\x00" + lenenc(300) + lenenc(70000) + struct.pack("<HH", 0x4022, 1) + b"Rows matched: 3"
eof = b"\xfe" + struct.pack("<HH", 0, 0x0022)
err = b"\xff" + struct.pack("<H", 1146) + b"#42S02Table 'test.x' doesn't exist"
row = lenenc(1) + b"1" + b"\xfb" + lenenc(300) + b"z" * 300 + lenenc(0)
pk = [greet, resp, ssl, chg, ok, okinfo, eof, err, row,
      b"USE `my db`;", b"/* c */ USE test", b"\x03SELECT 1",
      frame(b"\x03SELECT 1") + frame(b"\x0e"), frame(b"\xff" * 10, 3),
      b"\xff\xff\xff\x00" + b"a" * 64 + frame(b"", 1),
      b"\xfe\x01\x02\x03\x04\x05\x06\x07\x08", b"\xfd\x01\x02\x03", b"\xfc\x01\x02"]
for i, p in enumerate(pk):
    for flag in (0, 1, 2, 3):
        put("packet", bytes([flag]) + p, 300)
print({t: len(os.listdir(os.path.join(OUT, t))) for t in os.listdir(OUT)})
