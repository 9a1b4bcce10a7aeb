/*
 * difftest.c - the differential tester (in the spirit of SQLancer).
 *
 * Builds a database `difftest_<seed>` directly on MariaDB with a raw_sales-
 * like e-commerce schema (seed 000: raw_sales, products, customers) and the
 * TPC-H-like orders/lineitem/partsupp of seed 001, with declared PK/FK,
 * NULLs, duplicates, skew, midnights and day/month/year boundaries, decimals
 * and DOUBLE columns; every value is a deterministic SQL expression of the
 * seed, so a reproducer is just the setup SQL plus a view and a query.
 *
 * Then, round after round: 5-20 random schema-consistent materialized views
 * created through mvproxy, and random queries biased to be answerable from
 * them (coarser grouping, time roll-up, compensating ranges, derivable and
 * non-derivable aggregates, AVG, COUNT(DISTINCT), HAVING, ORDER BY + LIMIT
 * under a total order, DISTINCT, subqueries in FROM, UNION ALL, join
 * elimination, outer joins) plus unrelated ones. Each query runs through the
 * proxy, then EXPLAIN REWRITE (to count rewrites), then directly; the row
 * multisets (sorted text, NULL distinct, relative tolerance 1e-9 only in
 * FLOAT/DOUBLE columns) and the column names must be equal. The base tables
 * are never written after setup, so staleness cannot cause noise.
 *
 *   difftest [--seed S] [--queries N] [--time-budget SEC] [--views-min N]
 *            [--views-max N] [--per-round N] [--failures FILE] [--verbose]
 *            [--keep] [--print-setup] [--self-test]
 *
 * Env: MVP_DB_HOST MVP_DB_PORT MVP_DB_USER MVP_DB_PASSWORD, and
 * MVP_PROXY_BIN (or $MVP_BUILD_DIR/mvproxy), or MVP_PROXY_PORT for a
 * running proxy.
 *
 * Prints `queries N, rewritten R, mismatches M, errors E` and finally
 * `N passed, N failed`; exits non-zero on any mismatch or when the proxy
 * died. Each mismatch is printed in full and appended as a reproducer in
 * case-table format (tests/cases/README.md) to the failures file.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdint.h>

#include "tc_common.h"

/* ---- random numbers (splitmix64) ---------------------------------------- */

static uint64_t rng_state;

static uint64_t
rnd64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* uniform in [0, n) */
static int
rnd(int n)
{
    return n <= 1 ? 0 : (int)(rnd64() % (uint64_t)n);
}

/* true with probability PCT percent */
static bool
chance(int pct)
{
    return rnd(100) < pct;
}

static int
rnd_range(int lo, int hi)
{
    return lo + rnd(hi - lo + 1);
}

/* ---- growable strings ----------------------------------------------------- */

struct sb {
    char *s;
    size_t len, cap;
};

static void
sb_add(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2 + 64;
        b->s = realloc(b->s, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static char *
sb_take(struct sb *b)
{
    if (b->s == NULL) {
        return strdup("");
    }
    char *s = b->s;
    memset(b, 0, sizeof(*b));
    return s;
}

/* ---- the schema ------------------------------------------------------------ */

/*
 * The setup SQL; @S is replaced by the seed. Data are deterministic SQL
 * expressions over MariaDB's sequence engine (seq_1_to_N).
 */
static const char setup_sql[] =
    "CREATE TABLE products (product_id INT PRIMARY KEY, pname VARCHAR(20) NOT NULL,\n"
    "  brand VARCHAR(20) NULL, price DECIMAL(10,2) NOT NULL, weight DOUBLE NULL);\n"
    "INSERT INTO products SELECT seq, CONCAT('p', LPAD(seq, 2, '0')),\n"
    "  ELT(1 + (seq * 7 + @S) % 5, 'acme', 'fun', 'toolco', 'Acme', NULL),\n"
    "  ((seq * 37 + @S) % 100) + 0.99, IF(seq % 6 = 0, NULL, (seq % 9) / 7e0) FROM seq_1_to_40;\n"
    "CREATE TABLE customers (customer_id INT PRIMARY KEY, cname VARCHAR(20) NOT NULL,\n"
    "  city VARCHAR(20) NULL, segment VARCHAR(10) NOT NULL);\n"
    "INSERT INTO customers SELECT seq, CONCAT('c', seq),\n"
    "  ELT(1 + (seq * 3 + @S) % 5, 'paris', 'rome', 'oslo', 'Lima', NULL),\n"
    "  ELT(1 + (seq + @S) % 3, 'retail', 'corp', 'gov') FROM seq_1_to_80;\n"
    "CREATE TABLE raw_sales (sale_id INT PRIMARY KEY, sale_ts DATETIME NOT NULL,\n"
    "  sale_day DATE NOT NULL, region_id INT NULL, category_id INT NOT NULL,\n"
    "  product_id INT NOT NULL, customer_id INT NULL, channel VARCHAR(10) NULL,\n"
    "  status VARCHAR(12) NOT NULL, qty INT NULL, sale_amount DECIMAL(12,2) NOT NULL,\n"
    "  cost_amount DECIMAL(12,2) NULL, discount DOUBLE NULL,\n"
    "  FOREIGN KEY (product_id) REFERENCES products (product_id),\n"
    "  FOREIGN KEY (customer_id) REFERENCES customers (customer_id));\n"
    "INSERT INTO raw_sales SELECT seq,\n"
    "  TIMESTAMP('2023-11-15') + INTERVAL ((seq * 7919 + @S * 101) % 200) DAY\n"
    "    + INTERVAL IF(seq % 9 = 0, 0, (seq * 3779 + @S) % 86400) SECOND,\n"
    "  '2000-01-01',\n"
    "  IF(seq % 13 = 0, NULL, 1 + FLOOR(POW(((seq * 2971 + @S * 7) % 1000) / 1000e0, 2) * 8)),\n"
    "  1 + (seq * 31 + @S) % 6,\n"
    "  1 + FLOOR(POW(((seq * 613 + @S * 3) % 997) / 997e0, 3) * 40),\n"
    "  IF(seq % 11 = 0, NULL, 1 + (seq * 53 + @S) % 80),\n"
    "  ELT(1 + (seq * 17 + @S) % 4, 'web', 'store', 'app', NULL),\n"
    "  ELT(1 + (seq * 19 + @S) % 5, 'completed', 'completed', 'completed', 'cancelled', 'pending'),\n"
    "  IF(seq % 17 = 0, NULL, 1 + (seq * 23 + @S) % 9),\n"
    "  ((seq * 131 + @S * 17) % 50000) / 100,\n"
    "  IF(seq % 19 = 0, NULL, ((seq * 97 + @S) % 30000) / 100),\n"
    "  IF(seq % 7 = 0, NULL, ((seq * 41 + @S) % 20) / 7e0)\n"
    "FROM seq_1_to_3000;\n"
    "UPDATE raw_sales SET sale_day = DATE(sale_ts);\n"
    "CREATE TABLE orders (o_orderkey INT PRIMARY KEY, o_custkey INT NOT NULL,\n"
    "  o_orderstatus CHAR(1) NOT NULL, o_totalprice DECIMAL(15,2) NOT NULL,\n"
    "  o_orderdate DATE NOT NULL, o_orderpriority VARCHAR(15) NOT NULL,\n"
    "  o_shippriority INT NOT NULL, o_comment VARCHAR(40) NULL);\n"
    "INSERT INTO orders SELECT seq, 1 + (seq * 37 + @S) % 150, ELT(1 + (seq * 7 + @S) % 3, 'O', 'F', 'P'),\n"
    "  ((seq * 7717 + @S * 3) % 900000) / 100 + 1,\n"
    "  DATE('2024-04-20') + INTERVAL ((seq * 13 + @S) % 90) DAY,\n"
    "  ELT(1 + (seq * 11 + @S) % 5, '1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'),\n"
    "  (seq * 3 + @S) % 2, IF(seq % 10 = 0, NULL, CONCAT('c', (seq * 29 + @S) % 50))\n"
    "FROM seq_1_to_1000;\n"
    "CREATE TABLE lineitem (l_orderkey INT NOT NULL, l_linenumber INT NOT NULL,\n"
    "  l_partkey INT NOT NULL, l_suppkey INT NOT NULL, l_ordertime DATETIME NOT NULL,\n"
    "  l_quantity DECIMAL(15,2) NOT NULL, l_extendedprice DECIMAL(15,2) NOT NULL,\n"
    "  l_discount DECIMAL(15,2) NOT NULL, l_tax DECIMAL(15,2) NULL,\n"
    "  l_returnflag CHAR(1) NOT NULL, l_linestatus CHAR(1) NOT NULL, l_shipdate DATE NOT NULL,\n"
    "  l_shipmode VARCHAR(10) NULL, PRIMARY KEY (l_orderkey, l_linenumber),\n"
    "  FOREIGN KEY (l_orderkey) REFERENCES orders (o_orderkey));\n"
    "INSERT INTO lineitem SELECT IF(k0 % 7 = 0, k0 + 1, k0), seq, 1 + (seq * 7 + @S) % 60,\n"
    "  1 + (seq * 11 + @S) % 4,\n"
    "  TIMESTAMP('2024-05-01') + INTERVAL ((seq * 17 + @S) % 61) DAY\n"
    "    + INTERVAL IF(seq % 8 = 0, 0, (seq * 4001 + @S) % 86400) SECOND,\n"
    "  1 + seq % 50, ((seq * 7919 + @S) % 100000) / 100 + 1, ((seq * 3 + @S) % 11) / 100,\n"
    "  IF(seq % 23 = 0, NULL, ((seq + @S) % 9) / 100),\n"
    "  ELT(1 + (seq + @S) % 3, 'A', 'N', 'R'), ELT(1 + (seq * 5 + @S) % 2, 'O', 'F'),\n"
    "  DATE('2024-05-01') + INTERVAL ((seq * 17 + @S) % 61 + seq % 5) DAY,\n"
    "  ELT(1 + (seq * 13 + @S) % 5, 'AIR', 'MAIL', 'SHIP', 'RAIL', NULL)\n"
    "FROM (SELECT seq, 1 + (seq * 389 + @S) % 1000 AS k0 FROM seq_1_to_4000) x;\n"
    "CREATE TABLE partsupp (ps_partkey INT NOT NULL, ps_suppkey INT NOT NULL,\n"
    "  ps_availqty INT NOT NULL, ps_supplycost DECIMAL(15,2) NOT NULL,\n"
    "  ps_comment VARCHAR(40) NOT NULL, PRIMARY KEY (ps_partkey, ps_suppkey));\n"
    "INSERT INTO partsupp SELECT a.seq, b.seq, (a.seq * 31 + b.seq * 7 + @S) % 1000,\n"
    "  ((a.seq * 131 + b.seq + @S) % 10000) / 100, CONCAT('supply', a.seq % 7)\n"
    "FROM seq_1_to_60 a JOIN seq_1_to_4 b WHERE (a.seq + b.seq + @S) % 5 <> 0;\n"
    "ANALYZE TABLE products, customers, raw_sales, orders, lineitem, partsupp\n";

static char *
setup_text(long seed)
{
    struct sb b = {0};
    char num[32];
    snprintf(num, sizeof(num), "%ld", seed);
    for (const char *p = setup_sql; *p != '\0'; p++) {
        if (p[0] == '@' && p[1] == 'S') {
            sb_add(&b, "%s", num);
            p++;
        } else {
            sb_add(&b, "%c", *p);
        }
    }
    return sb_take(&b);
}

enum ctype { CT_INT, CT_DEC, CT_DBL, CT_DATE, CT_DT, CT_STR };

#define R_DIM 1                     /* good grouping / filter column */
#define R_MEAS 2                    /* numeric, aggregated */
#define R_ID 4                      /* high-cardinality key (projections only) */

struct coldef {
    const char *name;
    enum ctype t;
    bool nullable;
    int role;
    double lo, hi;                  /* value range; dates: days since 1970 set at start */
    const char *const *svals;       /* string values (NULL-terminated) */
    const char *dlo;                /* date range start (CT_DATE / CT_DT) */
    int ndays;                      /* days in the date range */
};

static const char *const v_brand[] = {"acme", "fun", "toolco", "Acme", "ACME", "zzz", NULL};
static const char *const v_city[] = {"paris", "rome", "oslo", "Lima", "lima", NULL};
static const char *const v_segment[] = {"retail", "corp", "gov", NULL};
static const char *const v_channel[] = {"web", "store", "app", "Web", NULL};
static const char *const v_status[] = {"completed", "cancelled", "pending", NULL};
static const char *const v_pname[] = {"p01", "p07", "p13", "p22", "p40", NULL};
static const char *const v_ostatus[] = {"O", "F", "P", NULL};
static const char *const v_prio[] = {"1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW", NULL};
static const char *const v_flag[] = {"A", "N", "R", NULL};
static const char *const v_lstatus[] = {"O", "F", NULL};
static const char *const v_mode[] = {"AIR", "MAIL", "SHIP", "RAIL", NULL};
static const char *const v_comment[] = {"c1", "c12", "c3", "c40", NULL};
static const char *const v_pscomment[] = {"supply1", "supply3", "supply6", NULL};

static const struct coldef c_products[] = {
    {"product_id", CT_INT, false, R_DIM, 1, 40, NULL, NULL, 0},
    {"pname", CT_STR, false, R_DIM, 0, 0, v_pname, NULL, 0},
    {"brand", CT_STR, true, R_DIM, 0, 0, v_brand, NULL, 0},
    {"price", CT_DEC, false, R_MEAS | R_DIM, 0, 100, NULL, NULL, 0},
    {"weight", CT_DBL, true, R_MEAS, 0, 1.2, NULL, NULL, 0},
};
static const struct coldef c_customers[] = {
    {"customer_id", CT_INT, false, R_DIM, 1, 80, NULL, NULL, 0},
    {"cname", CT_STR, false, R_ID, 0, 0, v_pname, NULL, 0},
    {"city", CT_STR, true, R_DIM, 0, 0, v_city, NULL, 0},
    {"segment", CT_STR, false, R_DIM, 0, 0, v_segment, NULL, 0},
};
static const struct coldef c_raw_sales[] = {
    {"sale_id", CT_INT, false, R_ID, 1, 3000, NULL, NULL, 0},
    {"sale_ts", CT_DT, false, R_DIM, 0, 0, NULL, "2023-11-15", 200},
    {"sale_day", CT_DATE, false, R_DIM, 0, 0, NULL, "2023-11-15", 200},
    {"region_id", CT_INT, true, R_DIM, 1, 8, NULL, NULL, 0},
    {"category_id", CT_INT, false, R_DIM, 1, 6, NULL, NULL, 0},
    {"product_id", CT_INT, false, R_DIM, 1, 40, NULL, NULL, 0},
    {"customer_id", CT_INT, true, R_DIM, 1, 80, NULL, NULL, 0},
    {"channel", CT_STR, true, R_DIM, 0, 0, v_channel, NULL, 0},
    {"status", CT_STR, false, R_DIM, 0, 0, v_status, NULL, 0},
    {"qty", CT_INT, true, R_MEAS | R_DIM, 1, 9, NULL, NULL, 0},
    {"sale_amount", CT_DEC, false, R_MEAS, 0, 500, NULL, NULL, 0},
    {"cost_amount", CT_DEC, true, R_MEAS, 0, 300, NULL, NULL, 0},
    {"discount", CT_DBL, true, R_MEAS, 0, 2.8, NULL, NULL, 0},
};
static const struct coldef c_orders[] = {
    {"o_orderkey", CT_INT, false, R_ID, 1, 1000, NULL, NULL, 0},
    {"o_custkey", CT_INT, false, R_DIM, 1, 150, NULL, NULL, 0},
    {"o_orderstatus", CT_STR, false, R_DIM, 0, 0, v_ostatus, NULL, 0},
    {"o_totalprice", CT_DEC, false, R_MEAS, 1, 9000, NULL, NULL, 0},
    {"o_orderdate", CT_DATE, false, R_DIM, 0, 0, NULL, "2024-04-20", 90},
    {"o_orderpriority", CT_STR, false, R_DIM, 0, 0, v_prio, NULL, 0},
    {"o_shippriority", CT_INT, false, R_DIM, 0, 1, NULL, NULL, 0},
    {"o_comment", CT_STR, true, R_DIM, 0, 0, v_comment, NULL, 0},
};
static const struct coldef c_lineitem[] = {
    {"l_orderkey", CT_INT, false, R_ID, 1, 1000, NULL, NULL, 0},
    {"l_linenumber", CT_INT, false, R_ID, 1, 4000, NULL, NULL, 0},
    {"l_partkey", CT_INT, false, R_DIM, 1, 60, NULL, NULL, 0},
    {"l_suppkey", CT_INT, false, R_DIM, 1, 4, NULL, NULL, 0},
    {"l_ordertime", CT_DT, false, R_DIM, 0, 0, NULL, "2024-05-01", 61},
    {"l_quantity", CT_DEC, false, R_MEAS | R_DIM, 1, 50, NULL, NULL, 0},
    {"l_extendedprice", CT_DEC, false, R_MEAS, 1, 1000, NULL, NULL, 0},
    {"l_discount", CT_DEC, false, R_MEAS, 0, 0.1, NULL, NULL, 0},
    {"l_tax", CT_DEC, true, R_MEAS, 0, 0.08, NULL, NULL, 0},
    {"l_returnflag", CT_STR, false, R_DIM, 0, 0, v_flag, NULL, 0},
    {"l_linestatus", CT_STR, false, R_DIM, 0, 0, v_lstatus, NULL, 0},
    {"l_shipdate", CT_DATE, false, R_DIM, 0, 0, NULL, "2024-05-01", 66},
    {"l_shipmode", CT_STR, true, R_DIM, 0, 0, v_mode, NULL, 0},
};
static const struct coldef c_partsupp[] = {
    {"ps_partkey", CT_INT, false, R_DIM, 1, 60, NULL, NULL, 0},
    {"ps_suppkey", CT_INT, false, R_DIM, 1, 4, NULL, NULL, 0},
    {"ps_availqty", CT_INT, false, R_MEAS, 0, 999, NULL, NULL, 0},
    {"ps_supplycost", CT_DEC, false, R_MEAS, 0, 100, NULL, NULL, 0},
    {"ps_comment", CT_STR, false, R_DIM, 0, 0, v_pscomment, NULL, 0},
};

struct tabdef {
    const char *name;
    const char *const *aliases;     /* alias choices */
    const struct coldef *cols;
    int ncols;
};

static const char *const a_s[] = {"s", "rs", "x", "sales", NULL};
static const char *const a_p[] = {"p", "pr", "y", NULL};
static const char *const a_c[] = {"c", "cu", "z", NULL};
static const char *const a_o[] = {"o", "ord", "x", NULL};
static const char *const a_l[] = {"l", "li", "y", NULL};
static const char *const a_ps[] = {"ps", "sp", "z", NULL};

enum { TB_SALES, TB_PRODUCTS, TB_CUSTOMERS, TB_ORDERS, TB_LINEITEM, TB_PARTSUPP };
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
static const struct tabdef tabs[] = {
    {"raw_sales", a_s, c_raw_sales, NELEM(c_raw_sales)},
    {"products", a_p, c_products, NELEM(c_products)},
    {"customers", a_c, c_customers, NELEM(c_customers)},
    {"orders", a_o, c_orders, NELEM(c_orders)},
    {"lineitem", a_l, c_lineitem, NELEM(c_lineitem)},
    {"partsupp", a_ps, c_partsupp, NELEM(c_partsupp)},
};

/* A FROM template: tables, joins (ON with $i placeholders), measure expressions. */
struct tmpl {
    int ntab;
    int tab[3];
    const char *join[3];            /* join kind before table i (i >= 1) */
    const char *on[3];              /* ON condition before table i */
    const char *mexpr[3];           /* extra measure expressions (decimal) */
};

static const struct tmpl tmpls[] = {
    /* 0 */ {1, {TB_SALES}, {0}, {0}, {"$0.sale_amount - $0.cost_amount", "$0.qty * $0.sale_amount"}},
    /* 1 */ {2, {TB_SALES, TB_PRODUCTS}, {0, "JOIN"}, {0, "$0.product_id = $1.product_id"},
             {"$0.qty * $1.price", "$0.sale_amount - $0.cost_amount"}},
    /* 2 */ {2, {TB_SALES, TB_CUSTOMERS}, {0, "LEFT JOIN"}, {0, "$0.customer_id = $1.customer_id"},
             {"$0.sale_amount - $0.cost_amount"}},
    /* 3 */ {2, {TB_SALES, TB_CUSTOMERS}, {0, "JOIN"}, {0, "$0.customer_id = $1.customer_id"},
             {"$0.sale_amount - $0.cost_amount"}},
    /* 4 */ {3, {TB_SALES, TB_PRODUCTS, TB_CUSTOMERS}, {0, "JOIN", "JOIN"},
             {0, "$0.product_id = $1.product_id", "$0.customer_id = $2.customer_id"},
             {"$0.qty * $1.price"}},
    /* 5 */ {1, {TB_ORDERS}, {0}, {0}, {0}},
    /* 6 */ {1, {TB_LINEITEM}, {0}, {0},
             {"$0.l_extendedprice * (1 - $0.l_discount)", "$0.l_extendedprice * (1 - $0.l_discount) * (1 + $0.l_tax)"}},
    /* 7 */ {2, {TB_ORDERS, TB_LINEITEM}, {0, "JOIN"}, {0, "$1.l_orderkey = $0.o_orderkey"},
             {"$1.l_extendedprice * (1 - $1.l_discount)"}},
    /* 8 */ {2, {TB_ORDERS, TB_LINEITEM}, {0, "LEFT JOIN"}, {0, "$1.l_orderkey = $0.o_orderkey"},
             {"$1.l_extendedprice * (1 - $1.l_discount)"}},
    /* 9 */ {2, {TB_LINEITEM, TB_PARTSUPP}, {0, "LEFT JOIN"},
             {0, "$0.l_partkey = $1.ps_partkey AND $0.l_suppkey = $1.ps_suppkey"},
             {"$0.l_extendedprice * (1 - $0.l_discount)", "$0.l_quantity * $1.ps_supplycost"}},
    /* 10 */ {2, {TB_LINEITEM, TB_PARTSUPP}, {0, "JOIN"},
              {0, "$0.l_partkey = $1.ps_partkey AND $0.l_suppkey = $1.ps_suppkey"},
              {"$0.l_quantity * $1.ps_supplycost"}},
    /* 11 */ {2, {TB_SALES, TB_PRODUCTS}, {0, "LEFT JOIN"}, {0, "$0.product_id = $1.product_id"},
              {"$0.qty * $1.price"}},
};
#define NTMPL NELEM(tmpls)

/* Query template derived from a view template: map view table i -> query table. */
struct relate {
    int vt, qt;
    int map[3];
};

static const struct relate relates[] = {
    {1, 0, {0, -1, -1}},  /* join elimination: product_id NOT NULL FK -> PK */
    {4, 1, {0, 1, -1}},   /* customer_id is nullable: not lossless */
    {4, 0, {0, -1, -1}},
    {7, 6, {-1, 0, -1}},  /* lineitem.l_orderkey NOT NULL FK -> orders PK */
    {2, 3, {0, 1, -1}},   /* left-join view answers the inner join */
    {2, 0, {0, -1, -1}},  /* LEFT JOIN to a PK: lossless */
    {3, 0, {0, -1, -1}},  /* inner join on a nullable FK: lossy */
    {8, 7, {0, 1, -1}},
    {8, 5, {0, -1, -1}},  /* orders LEFT JOIN lineitem duplicates orders */
    {9, 10, {0, 1, -1}},
    {9, 6, {0, -1, -1}},  /* LEFT JOIN on partsupp's whole PK: lossless */
    {10, 6, {0, -1, -1}}, /* no FK: lossy */
    {11, 1, {0, 1, -1}},
    {11, 0, {0, -1, -1}},
    {0, 1, {0, -1, -1}},  /* the query joins a table the view lacks */
    {6, 7, {1, -1, -1}},
    /* join-back (rw_join.c rw_join_joinback_ok): an SPJ view stands in for its tables,
     * the others are read next to it; aggregate views and LEFT JOINs of the
     * tables the view lacks must be refused */
    {0, 3, {0, -1, -1}},  /* customer_id nullable: NULLs join nothing */
    {0, 4, {0, -1, -1}},  /* two tables joined back */
    {1, 4, {0, 1, -1}},
    {3, 4, {0, 2, -1}},
    {5, 7, {0, -1, -1}},  /* lineitem duplicates orders rows */
    {6, 10, {0, -1, -1}},
    {0, 2, {0, -1, -1}},  /* LEFT JOIN of the lacking table: refused */
    {6, 9, {0, -1, -1}},  /* LEFT JOIN of the lacking table: refused */
};

/* ---- dates ------------------------------------------------------------------ */

static long
day_number(const char *ymd)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    sscanf(ymd, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long)(timegm(&tm) / 86400);
}

static void
fmt_day(long day, int secs, char *out, size_t n)
{
    time_t t = (time_t)day * 86400 + secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    if (secs == 0) {
        strftime(out, n, "%Y-%m-%d", &tm);
    } else {
        strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
    }
}

/* ---- items: expressions with $i table placeholders --------------------------- */

/* A column of a template: "$i.name". */
struct tcol {
    char expr[200];
    const struct coldef *cd;
    int ti;
};

static int
tmpl_cols(int t, struct tcol *out)
{
    int n = 0;
    for (int i = 0; i < tmpls[t].ntab; i++) {
        const struct tabdef *tb = &tabs[tmpls[t].tab[i]];
        for (int c = 0; c < tb->ncols; c++) {
            snprintf(out[n].expr, sizeof(out[n].expr), "$%d.%s", i, tb->cols[c].name);
            out[n].cd = &tb->cols[c];
            out[n].ti = i;
            n++;
        }
    }
    return n;
}

enum keyfn { KF_NONE, KF_DATE, KF_YEAR, KF_MONTH, KF_YM, KF_QUARTER, KF_LASTDAY, KF_MOD };

/* A grouping key or projected column. */
struct key {
    char expr[256];                 /* e.g. DATE($0.sale_ts) */
    char base[200];                 /* the column, $i.name */
    const struct coldef *cd;
    enum keyfn fn;
    char name[64];                  /* output alias in the view */
};

/* An aggregate. */
struct agg {
    char fn[16];                    /* SUM COUNT MIN MAX AVG */
    bool distinct;
    char arg[200];                  /* "" for COUNT(*) */
    const struct coldef *cd;        /* argument column (NULL: expression or *) */
    bool isfloat;
    char name[64];
};

enum pop { P_GE, P_GT, P_LT, P_LE, P_BETWEEN, P_EQ, P_NE, P_IN, P_ISNULL, P_NOTNULL, P_LIKE,
           P_GELT, P_NOTIN, P_SGE, P_SLT, P_SBETWEEN, P_OR };

struct pred {
    char col[256];                  /* expression filtered ($-placeholders) */
    const struct coldef *cd;
    enum pop op;
    double a, b;                    /* range bounds (numbers; days for dates) */
    int secs_a;                     /* time of day on the lower bound (dates too) */
    int secs_b;                     /* time of day on the upper bound */
    char list[200];                 /* IN / LIKE / string literal */
    char list2[64];                 /* second string bound */
    char col2[256];                 /* P_OR: (col = list OR col2 IS NULL) */
    bool as_two;                    /* BETWEEN written as >= AND <= */
};

#define MAXK 8
#define MAXA 12
#define MAXP 8

struct view {
    char name[32];
    int t;
    bool agg;
    struct key keys[MAXK];
    int nkeys;
    struct agg aggs[MAXA];
    int naggs;
    struct pred preds[MAXP];
    int npreds;
    char *sql;                      /* the SELECT (rendered with default aliases) */
    bool created;
};

/* Replace $i. with ALIAS[i]. (or nothing when !QUALIFY); MAP remaps table indexes. */
static void
render(struct sb *b, const char *e, const char *const *alias, bool qualify, const int *map)
{
    for (const char *p = e; *p != '\0'; p++) {
        if (p[0] == '$' && p[1] >= '0' && p[1] <= '9' && p[2] == '.') {
            int i = p[1] - '0';
            if (map != NULL) {
                i = map[i];
            }
            if (qualify) {
                sb_add(b, "%s.", i >= 0 ? alias[i] : "?");
            }
            p += 2;
        } else {
            sb_add(b, "%c", *p);
        }
    }
}

/* Does E reference a table that MAP drops? */
static bool
uses_dropped(const char *e, const int *map)
{
    if (map == NULL) {
        return false;
    }
    for (const char *p = e; *p != '\0'; p++) {
        if (p[0] == '$' && p[1] >= '0' && p[1] <= '9' && map[p[1] - '0'] < 0) {
            return true;
        }
    }
    return false;
}

/* Remap $i in E into OUT (size N). */
static void
remap(const char *e, const int *map, char *out, size_t n)
{
    struct sb b = {0};
    for (const char *p = e; *p != '\0'; p++) {
        if (p[0] == '$' && p[1] >= '0' && p[1] <= '9') {
            sb_add(&b, "$%d", map != NULL ? map[p[1] - '0'] : p[1] - '0');
            p++;
        } else {
            sb_add(&b, "%c", *p);
        }
    }
    char *s = sb_take(&b);
    snprintf(out, n, "%s", s);
    free(s);
}

static void
lit(struct sb *b, const struct coldef *cd, double v, int secs)
{
    char d[40];
    switch (cd->t) {
    case CT_INT:
        if (v == floor(v)) {
            sb_add(b, "%d", (int)v);
        } else {
            sb_add(b, "%.1f", v);
        }
        break;
    case CT_DEC: sb_add(b, "%.2f", v); break;
    case CT_DBL: sb_add(b, "%.3f", v); break;
    case CT_DATE:
        fmt_day((long)v, secs, d, sizeof(d));
        sb_add(b, "'%s'", d);
        break;
    case CT_DT:
        fmt_day((long)v, secs, d, sizeof(d));
        sb_add(b, "'%s'", d);
        break;
    case CT_STR: sb_add(b, "'%s'", cd->svals[(int)v]); break;
    }
}

static void
render_pred(struct sb *b, const struct pred *p, const char *const *alias, bool q, const int *map)
{
    struct sb c = {0};
    render(&c, p->col, alias, q, map);
    char *col = sb_take(&c);
    switch (p->op) {
    case P_GE: sb_add(b, "%s >= ", col); lit(b, p->cd, p->a, p->secs_a); break;
    case P_GT: sb_add(b, "%s > ", col); lit(b, p->cd, p->a, p->secs_a); break;
    case P_LT: sb_add(b, "%s < ", col); lit(b, p->cd, p->b, p->secs_b); break;
    case P_LE: sb_add(b, "%s <= ", col); lit(b, p->cd, p->b, p->secs_b); break;
    case P_GELT:
        sb_add(b, "%s >= ", col);
        lit(b, p->cd, p->a, p->secs_a);
        sb_add(b, " AND %s < ", col);
        lit(b, p->cd, p->b, p->secs_b);
        break;
    case P_NOTIN: sb_add(b, "%s NOT IN (%s)", col, p->list); break;
    case P_SGE: sb_add(b, "%s >= %s", col, p->list); break;
    case P_SLT: sb_add(b, "%s < %s", col, p->list2); break;
    case P_SBETWEEN: sb_add(b, "%s BETWEEN %s AND %s", col, p->list, p->list2); break;
    case P_OR: {
        struct sb c2 = {0};
        render(&c2, p->col2, alias, q, map);
        char *o = sb_take(&c2);
        sb_add(b, "(%s IN (%s) OR %s IS NULL)", col, p->list, o);
        free(o);
        break;
    }
    case P_BETWEEN:
        if (p->as_two) {
            sb_add(b, "%s >= ", col);
            lit(b, p->cd, p->a, p->secs_a);
            sb_add(b, " AND %s <= ", col);
        } else {
            sb_add(b, "%s BETWEEN ", col);
            lit(b, p->cd, p->a, p->secs_a);
            sb_add(b, " AND ");
        }
        lit(b, p->cd, p->b, p->secs_b);
        break;
    case P_EQ: sb_add(b, "%s = %s", col, p->list); break;
    case P_NE: sb_add(b, "%s <> %s", col, p->list); break;
    case P_IN: sb_add(b, "%s IN (%s)", col, p->list); break;
    case P_ISNULL: sb_add(b, "%s IS NULL", col); break;
    case P_NOTNULL: sb_add(b, "%s IS NOT NULL", col); break;
    case P_LIKE: sb_add(b, "%s LIKE %s", col, p->list); break;
    }
    free(col);
}

/* A random value of CD as a number (index for strings, day for dates). */
static double
rnd_val(const struct coldef *cd)
{
    switch (cd->t) {
    case CT_INT: return rnd_range((int)cd->lo, (int)cd->hi);
    case CT_DEC: return cd->lo + (cd->hi - cd->lo) * rnd(1000) / 1000.0;
    case CT_DBL: return cd->lo + (cd->hi - cd->lo) * rnd(1000) / 1000.0;
    case CT_DATE:
    case CT_DT: return (double)(day_number(cd->dlo) - 3 + rnd(cd->ndays + 6));
    case CT_STR: {
        int n = 0;
        while (cd->svals[n] != NULL) {
            n++;
        }
        return rnd(n);
    }
    }
    return 0;
}

static void
str_list(const struct coldef *cd, char *out, size_t n, int k)
{
    struct sb b = {0};
    for (int i = 0; i < k; i++) {
        lit(&b, cd, rnd_val(cd), 0);
        if (i + 1 < k) {
            sb_add(&b, ", ");
        }
    }
    char *s = sb_take(&b);
    snprintf(out, n, "%s", s);
    free(s);
}

/* A random predicate on column expression COL of type CD. WIDE: keep most rows. */
static void
rnd_pred(struct pred *p, const char *col, const struct coldef *cd, bool wide)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->col, sizeof(p->col), "%s", col);
    p->cd = cd;
    int r = rnd(100);
    if (cd->nullable && r < 12) {
        p->op = chance(70) ? P_NOTNULL : P_ISNULL;
        return;
    }
    if (cd->t == CT_STR) {
        int k = rnd(100);
        if (k < 30) {
            p->op = P_EQ;
            str_list(cd, p->list, sizeof(p->list), 1);
        } else if (k < 70) {
            p->op = P_IN;
            str_list(cd, p->list, sizeof(p->list), wide ? 3 : rnd_range(1, 3));
        } else if (k < 78) {
            p->op = P_LIKE;
            const char *v = cd->svals[rnd_range(0, 1)];
            snprintf(p->list, sizeof(p->list), chance(50) ? "'%c%%'" : "'%%%c%%'", v[0]);
        } else if (k < 92) {
            /* ranges on strings: the backend compares under utf8mb4_general_ci */
            static const char *const bounds[] = {"'A'", "'a'", "'Acme'", "'acme'", "'B'", "'f'",
                                                 "'Fun'", "'m'", "'P'", "'r'", "'T'", "'z'",
                                                 "'Z'", "'c2'", "'O'", "'3'",
                                                 /* trailing space (PAD SPACE), punctuation
                                                  * and non-ASCII: refused by rw_coll */
                                                 "'Fun '", "'m-'", "'\xc3\xa9'"};
            int i = rnd(NELEM(bounds)), j = rnd(NELEM(bounds));
            snprintf(p->list, sizeof(p->list), "%s", bounds[i]);
            snprintf(p->list2, sizeof(p->list2), "%s", bounds[j]);
            int o = rnd(3);
            p->op = o == 0 ? P_SGE : o == 1 ? P_SLT : P_SBETWEEN;
        } else if (k < 96) {
            p->op = P_NOTIN;
            str_list(cd, p->list, sizeof(p->list), rnd_range(1, 2));
        } else {
            p->op = P_NE;
            str_list(cd, p->list, sizeof(p->list), 1);
        }
        return;
    }
    double a = rnd_val(cd), b = rnd_val(cd);
    if (a > b) {
        double t = a;
        a = b;
        b = t;
    }
    if (wide && cd->t != CT_DBL) {
        /* widen toward the edges */
        double lo = cd->t == CT_DATE || cd->t == CT_DT ? day_number(cd->dlo) : cd->lo;
        double hi = cd->t == CT_DATE || cd->t == CT_DT ? lo + cd->ndays : cd->hi;
        a = lo + (a - lo) / 3;
        b = hi - (hi - b) / 3;
        if (cd->t == CT_INT || cd->t == CT_DATE || cd->t == CT_DT) {
            a = floor(a);
            b = ceil(b);
        }
    }
    p->a = a;
    p->b = b;
    int k = rnd(100);
    if (cd->t == CT_DT || (cd->t == CT_DATE && chance(12))) {
        /* midnight bounds mostly; sometimes a bound inside a day (on a DATE
         * column: a DATETIME literal) */
        if (chance(15)) {
            p->secs_a = rnd_range(1, 86399);
        }
        if (chance(8)) {
            p->secs_b = chance(50) ? 1 : rnd_range(1, 86399);
        }
        p->op = k < 40 ? P_GELT : k < 58 ? P_GE : k < 72 ? P_LT : k < 82 ? P_BETWEEN : k < 90 ? P_LE : P_GT;
        return;
    }
    /* a fractional bound on an integer column (only with >= and <, below:
     * MariaDB 10.11's MIN/MAX-from-index optimisation is off by one for
     * `c > 39.5` and `c <= 65.5` on an indexed INT column, e.g.
     * SELECT MAX(c) FROM t WHERE c <= 65.5 answers 66: a backend bug that
     * would show up here as a false mismatch) */
    bool frac = cd->t == CT_INT && chance(10);
    if (cd->t == CT_INT && k >= 20 && k < 24) {
        p->op = P_NOTIN;
        snprintf(p->list, sizeof(p->list), "%d, %d", (int)a, (int)b);
        return;
    }
    if (cd->t == CT_INT && k < 20) {
        p->op = P_IN;
        snprintf(p->list, sizeof(p->list), "%d, %d, %d", (int)a, (int)b, (int)((a + b) / 2));
        return;
    }
    if (cd->t == CT_INT && k < 28) {
        p->op = P_EQ;
        snprintf(p->list, sizeof(p->list), "%d", (int)a);
        return;
    }
    if (frac) {
        p->a = a + 0.5;
        p->b = b - 0.5;
        p->op = k < 60 ? P_GE : P_LT;
        return;
    }
    if (k < 30) {
        p->op = P_GE;
    } else if (k < 45) {
        p->op = P_LT;
    } else if (k < 55) {
        p->op = P_GT;
    } else if (k < 62) {
        p->op = P_LE;
    } else {
        p->op = P_BETWEEN;
        p->as_two = chance(30);
    }
}

/* A predicate of the same column, with a range inside P's (compensating range). */
static bool
narrow_pred(const struct pred *p, struct pred *q)
{
    *q = *p;
    double span = p->b - p->a;
    if (p->cd->t == CT_STR || span <= 0) {
        return false;
    }
    bool integral = p->cd->t == CT_INT || p->cd->t == CT_DATE || p->cd->t == CT_DT;
    double na = p->a + span * rnd(40) / 100.0, nb = p->b - span * rnd(40) / 100.0;
    if (integral && p->a == floor(p->a) && p->b == floor(p->b)) {
        na = ceil(na);
        nb = floor(nb);
    }
    if (na > nb) {
        return false;
    }
    switch (p->op) {
    case P_GE: case P_GT: q->a = na; return true;
    case P_LT: case P_LE: q->b = nb; return true;
    case P_BETWEEN: case P_GELT: q->a = na; q->b = nb; q->secs_a = p->secs_a; return true;
    default: return false;
    }
}

/* ---- views ---------------------------------------------------------------- */

static void
uniq_name(char *name, size_t n, struct key *keys, int nk, struct agg *aggs, int na)
{
    char base[64];
    snprintf(base, sizeof(base), "%s", name);
    for (int suffix = 2;; suffix++) {
        bool clash = false;
        for (int i = 0; i < nk && !clash; i++) {
            clash = strcasecmp(keys[i].name, name) == 0;
        }
        for (int i = 0; i < na && !clash; i++) {
            clash = strcasecmp(aggs[i].name, name) == 0;
        }
        if (!clash) {
            return;
        }
        snprintf(name, n, "%.50s_%d", base, suffix);
    }
}

static bool
has_key(const struct key *keys, int n, const char *expr)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(keys[i].expr, expr) == 0) {
            return true;
        }
    }
    return false;
}

static void
make_key(struct key *k, const struct tcol *tc, enum keyfn fn)
{
    memset(k, 0, sizeof(*k));
    k->cd = tc->cd;
    k->fn = fn;
    snprintf(k->base, sizeof(k->base), "%s", tc->expr);
    const char *pre = "";
    switch (fn) {
    case KF_NONE: snprintf(k->expr, sizeof(k->expr), "%s", tc->expr); break;
    case KF_DATE: snprintf(k->expr, sizeof(k->expr), "DATE(%s)", tc->expr); pre = "d_"; break;
    case KF_YEAR: snprintf(k->expr, sizeof(k->expr), "YEAR(%s)", tc->expr); pre = "y_"; break;
    case KF_MONTH: snprintf(k->expr, sizeof(k->expr), "MONTH(%s)", tc->expr); pre = "m_"; break;
    case KF_YM: snprintf(k->expr, sizeof(k->expr), "DATE_FORMAT(%s, '%%Y-%%m')", tc->expr); pre = "ym_"; break;
    case KF_QUARTER: snprintf(k->expr, sizeof(k->expr), "QUARTER(%s)", tc->expr); pre = "q_"; break;
    case KF_LASTDAY: snprintf(k->expr, sizeof(k->expr), "LAST_DAY(%s)", tc->expr); pre = "ld_"; break;
    case KF_MOD: snprintf(k->expr, sizeof(k->expr), "%s %% 3", tc->expr); pre = "mod_"; break;
    }
    snprintf(k->name, sizeof(k->name), "%s%.40s", pre, tc->cd->name);
}

static void
make_agg(struct agg *a, const char *fn, bool distinct, const char *arg, const struct coldef *cd,
         bool isfloat)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->fn, sizeof(a->fn), "%s", fn);
    a->distinct = distinct;
    snprintf(a->arg, sizeof(a->arg), "%s", arg);
    a->cd = cd;
    a->isfloat = isfloat;
    if (arg[0] == '\0') {
        snprintf(a->name, sizeof(a->name), "cnt");
    } else if (cd != NULL) {
        snprintf(a->name, sizeof(a->name), "%s%s_%s", distinct ? "d" : "", fn, cd->name);
        for (char *p = a->name; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
    } else {
        snprintf(a->name, sizeof(a->name), "%sx", fn);
        for (char *p = a->name; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
    }
}

static void
render_agg(struct sb *b, const struct agg *a, const char *const *alias, bool q, const int *map)
{
    sb_add(b, "%s(%s", a->fn, a->distinct ? "DISTINCT " : "");
    if (a->arg[0] == '\0') {
        sb_add(b, "*");
    } else {
        render(b, a->arg, alias, q, map);
    }
    sb_add(b, ")");
}

static const char *const dflt_alias[3][3] = {{0}};

/*
 * Table index of the FROM template rendered as a derived table
 * "(SELECT * FROM t a WHERE <the query's filters on it>) a" (the filters
 * leave the WHERE: on a null-supplying side they then filter in the ON), or
 * -1. Set by gen_query for one rendering; the proxy must merge it exactly.
 */
static int g_derive = -1;
static const struct pred *g_dpreds;     /* the query's filters */
static int g_ndpreds;                   /* count */

/* Does predicate P read only table T of the template? */
static bool
pred_only_on(const struct pred *p, int t)
{
    const char *cols[2] = {p->col, p->op == P_OR ? p->col2 : ""};
    bool any = false;
    for (int k = 0; k < 2; k++) {
        for (const char *c = cols[k]; *c != '\0'; c++) {
            if (c[0] == '$' && c[1] >= '0' && c[1] <= '9') {
                if (c[1] - '0' != t) {
                    return false;
                }
                any = true;
            }
        }
    }
    return any;
}

static void render_pred(struct sb *b, const struct pred *p, const char *const *alias, bool q,
                        const int *map);

/* Table I of template TP with its alias: a base table, or the derived table of g_derive. */
static void
render_table(struct sb *b, const struct tmpl *tp, int i, const char *const *alias)
{
    if (i != g_derive) {
        sb_add(b, "%s %s", tabs[tp->tab[i]].name, alias[i]);
        return;
    }
    sb_add(b, "(SELECT * FROM %s %s", tabs[tp->tab[i]].name, alias[i]);
    bool first = true;
    for (int k = 0; k < g_ndpreds; k++) {
        if (pred_only_on(&g_dpreds[k], i)) {
            sb_add(b, "%s", first ? " WHERE " : " AND ");
            first = false;
            render_pred(b, &g_dpreds[k], alias, true, NULL);
        }
    }
    sb_add(b, ") %s", alias[i]);
}

static void
default_aliases(int t, const char **alias)
{
    (void)dflt_alias;
    for (int i = 0; i < tmpls[t].ntab; i++) {
        alias[i] = tabs[tmpls[t].tab[i]].aliases[0];
    }
}

static void
render_from(struct sb *b, int t, const char *const *alias, bool comma)
{
    const struct tmpl *tp = &tmpls[t];
    bool all_inner = true;
    for (int i = 1; i < tp->ntab; i++) {
        all_inner = all_inner && strcmp(tp->join[i], "JOIN") == 0;
    }
    if (comma && all_inner && tp->ntab > 1) {
        for (int i = 0; i < tp->ntab; i++) {
            sb_add(b, "%s", i ? ", " : "");
            render_table(b, tp, i, alias);
        }
        return;
    }
    for (int i = 0; i < tp->ntab; i++) {
        if (i > 0) {
            sb_add(b, " %s ", tp->join[i]);
        }
        render_table(b, tp, i, alias);
        if (i > 0) {
            sb_add(b, " ON ");
            render(b, tp->on[i], alias, true, NULL);
        }
    }
}

/* ON conditions as WHERE conjuncts (comma syntax), or NULL */
static void
render_comma_where(struct sb *b, int t, const char *const *alias, bool *first)
{
    const struct tmpl *tp = &tmpls[t];
    for (int i = 1; i < tp->ntab; i++) {
        sb_add(b, "%s", *first ? " WHERE " : " AND ");
        *first = false;
        render(b, tp->on[i], alias, true, NULL);
    }
}

static void
gen_view(struct view *v, const char *name)
{
    memset(v, 0, sizeof(*v));
    snprintf(v->name, sizeof(v->name), "%s", name);
    v->t = rnd(NTMPL);
    struct tcol tc[64];
    int ntc = tmpl_cols(v->t, tc);
    v->agg = chance(75);
    /* filter */
    int np = chance(35) ? 0 : chance(70) ? 1 : 2;
    for (int i = 0; i < np; i++) {
        const struct tcol *c;
        int tries = 0;
        do {
            c = &tc[rnd(ntc)];
        } while ((c->cd->role & R_DIM) == 0 && ++tries < 20);
        if ((c->cd->role & R_DIM) == 0) {
            continue;
        }
        /* filters on the null-supplying side of an outer join: rarely */
        if (c->ti > 0 && strncmp(tmpls[v->t].join[c->ti], "LEFT", 4) == 0 && !chance(15)) {
            continue;
        }
        rnd_pred(&v->preds[v->npreds++], c->expr, c->cd, true);
    }
    if (v->agg) {
        int nk = rnd_range(chance(10) ? 0 : 1, 4);
        for (int tries = 0; v->nkeys < nk && tries < 40; tries++) {
            const struct tcol *c = &tc[rnd(ntc)];
            if ((c->cd->role & R_DIM) == 0 && !(c->cd->t == CT_INT && chance(10))) {
                continue;
            }
            struct key k;
            if (c->cd->t == CT_DT) {
                int r = rnd(100);
                make_key(&k, c, r < 65 ? KF_DATE : r < 80 ? KF_YEAR : r < 92 ? KF_MONTH : KF_YM);
                if (k.fn == KF_YEAR && v->nkeys + 1 < MAXK && chance(60)) {
                    struct key k2;
                    make_key(&k2, c, KF_MONTH);
                    if (!has_key(v->keys, v->nkeys, k2.expr)) {
                        v->keys[v->nkeys++] = k2;
                    }
                }
            } else {
                make_key(&k, c, KF_NONE);
            }
            if (has_key(v->keys, v->nkeys, k.expr)) {
                continue;
            }
            uniq_name(k.name, sizeof(k.name), v->keys, v->nkeys, NULL, 0);
            v->keys[v->nkeys++] = k;
        }
        if (chance(90)) {
            make_agg(&v->aggs[v->naggs++], "COUNT", false, "", NULL, false);
        }
        int nm = rnd_range(1, 3);
        for (int i = 0, tries = 0; i < nm && tries < 30; tries++) {
            const struct tcol *c = &tc[rnd(ntc)];
            if ((c->cd->role & R_MEAS) == 0) {
                continue;
            }
            i++;
            bool fl = c->cd->t == CT_DBL;
            const char *fns[] = {"SUM", "COUNT", "MIN", "MAX", "AVG"};
            int pct[] = {90, 60, 30, 30, 10};
            for (int f = 0; f < 5 && v->naggs < MAXA; f++) {
                if (!chance(pct[f])) {
                    continue;
                }
                struct agg a;
                make_agg(&a, fns[f], false, c->expr, c->cd, fl && f != 1);
                uniq_name(a.name, sizeof(a.name), v->keys, v->nkeys, v->aggs, v->naggs);
                v->aggs[v->naggs++] = a;
            }
        }
        const struct tmpl *tp = &tmpls[v->t];
        for (int i = 0; i < 3 && tp->mexpr[i] != NULL && v->naggs < MAXA; i++) {
            if (chance(30)) {
                struct agg a;
                make_agg(&a, "SUM", false, tp->mexpr[i], NULL, false);
                uniq_name(a.name, sizeof(a.name), v->keys, v->nkeys, v->aggs, v->naggs);
                v->aggs[v->naggs++] = a;
            }
        }
        if (chance(12) && v->naggs < MAXA) {
            const struct tcol *c = &tc[rnd(ntc)];
            if ((c->cd->role & R_DIM) != 0 && c->cd->t != CT_DT && !has_key(v->keys, v->nkeys, c->expr)) {
                struct agg a;
                make_agg(&a, "COUNT", true, c->expr, c->cd, false);
                uniq_name(a.name, sizeof(a.name), v->keys, v->nkeys, v->aggs, v->naggs);
                v->aggs[v->naggs++] = a;
            }
        }
        if (v->naggs == 0) {
            make_agg(&v->aggs[v->naggs++], "COUNT", false, "", NULL, false);
        }
    } else {
        int nk = rnd_range(2, 7);
        for (int tries = 0; v->nkeys < nk && tries < 40; tries++) {
            const struct tcol *c = &tc[rnd(ntc)];
            struct key k;
            make_key(&k, c, c->cd->t == CT_DT && chance(15) ? KF_DATE : KF_NONE);
            if (has_key(v->keys, v->nkeys, k.expr)) {
                continue;
            }
            uniq_name(k.name, sizeof(k.name), v->keys, v->nkeys, NULL, 0);
            v->keys[v->nkeys++] = k;
        }
    }
    /* the SQL */
    const char *alias[3];
    default_aliases(v->t, alias);
    struct sb b = {0};
    sb_add(&b, "SELECT ");
    for (int i = 0; i < v->nkeys; i++) {
        sb_add(&b, "%s", i ? ", " : "");
        render(&b, v->keys[i].expr, alias, true, NULL);
        sb_add(&b, " AS %s", v->keys[i].name);
    }
    for (int i = 0; i < v->naggs; i++) {
        sb_add(&b, "%s", i || v->nkeys ? ", " : "");
        render_agg(&b, &v->aggs[i], alias, true, NULL);
        sb_add(&b, " AS %s", v->aggs[i].name);
    }
    sb_add(&b, " FROM ");
    render_from(&b, v->t, alias, false);
    for (int i = 0; i < v->npreds; i++) {
        sb_add(&b, "%s", i ? " AND " : " WHERE ");
        render_pred(&b, &v->preds[i], alias, true, NULL);
    }
    if (v->agg && v->nkeys > 0) {
        sb_add(&b, " GROUP BY ");
        for (int i = 0; i < v->nkeys; i++) {
            sb_add(&b, "%s", i ? ", " : "");
            render(&b, v->keys[i].expr, alias, true, NULL);
        }
    }
    v->sql = sb_take(&b);
}

/* ---- queries --------------------------------------------------------------- */

struct qitem {
    char text[400];                 /* rendered expression ($-placeholders) */
    bool isagg;
    bool isfloat;
    const struct coldef *cd;        /* for HAVING thresholds */
};

struct qspec {
    int t;                          /* query template */
    const int *map;                 /* view table -> query table (NULL: identity) */
    bool agg;                       /* has GROUP BY or aggregates */
    bool distinct;
    struct qitem items[16];
    int nitems;
    char group[MAXK + 2][256];
    int ngroup;
    struct pred preds[MAXP + 4];
    int npreds;
    char having[300];
    int limit;                      /* 0: none */
    int offset;
    bool float_out;
};

static void
add_item(struct qspec *q, const char *text, bool isagg, bool isfloat, const struct coldef *cd)
{
    if (q->nitems >= 16) {
        return;
    }
    struct qitem *it = &q->items[q->nitems++];
    snprintf(it->text, sizeof(it->text), "%s", text);
    it->isagg = isagg;
    it->isfloat = isfloat;
    it->cd = cd;
    q->float_out = q->float_out || isfloat;
}

static void
agg_text(char *out, size_t n, const char *fn, bool distinct, const char *arg)
{
    tc_fmt_cut(out, n, "%s(%s%s)", fn, distinct ? "DISTINCT " : "", arg[0] ? arg : "*");
}

/* Query aggregates derivable from view V's aggregates (plus some that are not). */
static void
derive_aggs(struct qspec *q, const struct view *v, const int *map, const struct key *dropped,
            int ndropped)
{
    char opts[48][400];
    bool optf[48];
    const struct coldef *optc[48];
    int nopt = 0;
    char t[400], r[200];
#define OPT(str, fl, cd)                                                                       \
    do {                                                                                       \
        if (nopt < 48) {                                                                       \
            snprintf(opts[nopt], sizeof(opts[nopt]), "%s", str);                               \
            optf[nopt] = fl;                                                                   \
            optc[nopt++] = cd;                                                                 \
        }                                                                                      \
    } while (0)
    bool has_star = false;
    for (int i = 0; i < v->naggs; i++) {
        const struct agg *a = &v->aggs[i];
        if (uses_dropped(a->arg, map)) {
            continue;
        }
        remap(a->arg, map, r, sizeof(r));
        if (a->arg[0] == '\0') {
            has_star = true;
        }
        if (strcmp(a->fn, "AVG") == 0 || a->distinct) {
            continue;               /* only for exact-grouping queries */
        }
        agg_text(t, sizeof(t), a->fn, false, r);
        OPT(t, a->isfloat, a->cd);
        if (strcmp(a->fn, "SUM") == 0) {
            /* AVG(x) when the view has COUNT(x) (or x is NOT NULL and COUNT(*)) */
            for (int j = 0; j < v->naggs; j++) {
                if (strcmp(v->aggs[j].fn, "COUNT") == 0 && !v->aggs[j].distinct &&
                    (strcmp(v->aggs[j].arg, a->arg) == 0 ||
                     (v->aggs[j].arg[0] == '\0' && a->cd != NULL && !a->cd->nullable))) {
                    agg_text(t, sizeof(t), "AVG", false, r);
                    OPT(t, a->isfloat, a->cd);
                    break;
                }
            }
        }
    }
    if (has_star) {
        for (int i = 0; i < v->naggs; i++) {
            if (strcmp(v->aggs[i].fn, "SUM") == 0 && !uses_dropped(v->aggs[i].arg, map) &&
                !v->aggs[i].isfloat) {
                remap(v->aggs[i].arg, map, r, sizeof(r));
                snprintf(t, sizeof(t), "SUM(%s) / COUNT(*)", r);
                OPT(t, false, NULL);
                break;
            }
        }
    }
    /* sums of differences: SUM(a) - SUM(b) is derivable, SUM(a - b) differs with NULLs */
    for (int i = 0; i < v->naggs; i++) {
        for (int j = 0; j < v->naggs; j++) {
            const struct agg *x = &v->aggs[i], *y = &v->aggs[j];
            if (i == j || strcmp(x->fn, "SUM") || strcmp(y->fn, "SUM") || x->isfloat ||
                y->isfloat || x->cd == NULL || y->cd == NULL || uses_dropped(x->arg, map) ||
                uses_dropped(y->arg, map) || !chance(30)) {
                continue;
            }
            char r2[200];
            remap(x->arg, map, r, sizeof(r));
            remap(y->arg, map, r2, sizeof(r2));
            snprintf(t, sizeof(t), chance(50) ? "SUM(%s) - SUM(%s)" : "SUM(%s - %s)", r, r2);
            OPT(t, false, NULL);
        }
    }
    /* aggregates that do not roll up (AVG of AVG, distinct counts) */
    for (int i = 0; i < v->naggs; i++) {
        const struct agg *a = &v->aggs[i];
        if ((strcmp(a->fn, "AVG") == 0 || a->distinct) && !uses_dropped(a->arg, map) && chance(40)) {
            remap(a->arg, map, r, sizeof(r));
            agg_text(t, sizeof(t), a->fn, a->distinct, r);
            OPT(t, a->isfloat, a->cd);
        }
    }
    /* distinct aggregates over grouping columns rolled away */
    for (int i = 0; i < ndropped; i++) {
        const struct key *k = &dropped[i];
        if (uses_dropped(k->expr, map)) {
            continue;
        }
        remap(k->expr, map, r, sizeof(r));
        agg_text(t, sizeof(t), "COUNT", true, r);
        OPT(t, false, NULL);
        if (k->cd->t == CT_INT && k->fn == KF_NONE) {
            agg_text(t, sizeof(t), "SUM", true, r);
            OPT(t, false, NULL);
        }
        if (k->cd->t != CT_DBL) {
            agg_text(t, sizeof(t), chance(50) ? "MIN" : "MAX", false, r);
            OPT(t, false, NULL);
        }
    }
    /* something the view cannot give */
    if (chance(12) || nopt == 0) {
        struct tcol tc[64];
        int ntc = tmpl_cols(q->t, tc);
        const struct tcol *c = &tc[rnd(ntc)];
        if ((c->cd->role & R_MEAS) != 0) {
            const char *fns[] = {"SUM", "AVG", "COUNT", "MAX"};
            agg_text(t, sizeof(t), fns[rnd(4)], false, c->expr);
            OPT(t, c->cd->t == CT_DBL, c->cd);
        } else {
            OPT("COUNT(*)", false, NULL);
        }
    }
    int na = rnd_range(1, nopt < 4 ? nopt : 4);
    bool used[48] = {false};
    for (int i = 0; i < na; i++) {
        int k = rnd(nopt);
        if (used[k]) {
            continue;
        }
        used[k] = true;
        add_item(q, opts[k], true, optf[k], optc[k]);
    }
#undef OPT
}

/* Extra filters on columns the view keeps (or, rarely, on any column). */
static void
extra_preds(struct qspec *q, const struct view *v, const int *map)
{
    int n = chance(40) ? 0 : rnd_range(1, 2);
    for (int i = 0; i < n && q->npreds < MAXP + 4; i++) {
        struct pred *p = &q->preds[q->npreds];
        if (v != NULL && v->nkeys > 0 && !chance(10)) {
            const struct key *k = &v->keys[rnd(v->nkeys)];
            if (uses_dropped(k->expr, map)) {
                continue;
            }
            char r[200];
            if (k->fn == KF_DATE && chance(70)) {
                /* range on the timestamp itself (midnight or not) */
                remap(k->base, map, r, sizeof(r));
                rnd_pred(p, r, k->cd, false);
            } else if (k->fn == KF_YEAR || k->fn == KF_MONTH) {
                remap(k->expr, map, r, sizeof(r));
                memset(p, 0, sizeof(*p));
                snprintf(p->col, sizeof(p->col), "%s", r);
                static const struct coldef yc = {"y", CT_INT, false, R_DIM, 1, 12, NULL, NULL, 0};
                p->cd = &yc;
                p->op = P_EQ;
                snprintf(p->list, sizeof(p->list), "%d",
                         k->fn == KF_YEAR ? rnd_range(2023, 2024) : rnd_range(1, 12));
            } else if (k->fn == KF_NONE || k->fn == KF_DATE) {
                remap(k->expr, map, r, sizeof(r));
                static const struct coldef dc = {"d", CT_DATE, false, R_DIM, 0, 0, NULL, "2023-11-15", 280};
                rnd_pred(p, r, k->fn == KF_DATE ? &dc : k->cd, false);
            } else {
                continue;
            }
        } else {
            struct tcol tc[64];
            int ntc = tmpl_cols(q->t, tc);
            const struct tcol *c = &tc[rnd(ntc)];
            rnd_pred(p, c->expr, c->cd, false);
        }
        if (chance(5) && (p->op == P_GE || p->op == P_GT) && p->cd->t != CT_STR) {
            p->a += p->cd->t == CT_DATE || p->cd->t == CT_DT ? 2000 : p->cd->hi * 3 + 1000;
        }
        q->npreds++;
    }
    if (chance(5) && q->npreds < MAXP + 4) {
        /* an OR residual */
        struct tcol tc[64];
        int ntc = tmpl_cols(q->t, tc);
        const struct tcol *c = &tc[rnd(ntc)], *c2 = &tc[rnd(ntc)];
        if (c->cd->t == CT_STR || c->cd->t == CT_INT) {
            struct pred *p = &q->preds[q->npreds++];
            memset(p, 0, sizeof(*p));
            p->op = P_OR;
            p->cd = c->cd;
            snprintf(p->col, sizeof(p->col), "%s", c->expr);
            tc_fmt_cut(p->col2, sizeof(p->col2), "%s", c2->expr);
            str_list(c->cd, p->list, sizeof(p->list), 2);
        }
    }
}

/* View V's filter as the query's, sometimes narrowed (compensation). */
static void
copy_preds(struct qspec *q, const struct view *v, const int *map)
{
    for (int i = 0; i < v->npreds; i++) {
        const struct pred *p = &v->preds[i];
        if (uses_dropped(p->col, map)) {
            continue;
        }
        struct pred np = *p;
        remap(p->col, map, np.col, sizeof(np.col));
        if (chance(20)) {
            struct pred nn;
            if (narrow_pred(&np, &nn)) {
                np = nn;
            }
        }
        if (chance(15) && np.op == P_BETWEEN) {
            np.as_two = !np.as_two;
        }
        if (chance(3)) {
            continue;               /* drop it: the view lacks rows */
        }
        q->preds[q->npreds++] = np;
    }
}

static const enum keyfn rollups[] = {KF_DATE, KF_YEAR, KF_MONTH, KF_YM, KF_QUARTER, KF_LASTDAY};

static void
gen_query_from_agg_view(struct qspec *q, const struct view *v, const int *map)
{
    copy_preds(q, v, map);
    extra_preds(q, v, map);
    int mode = rnd(100);
    struct key kept[MAXK], dropped[MAXK];
    int nkept = 0, ndropped = 0;
    char r[200], t[400];
    if (mode < 15) {
        /* exact grouping, any of the view's aggregates */
        q->agg = true;
        for (int i = 0; i < v->nkeys; i++) {
            if (uses_dropped(v->keys[i].expr, map)) {
                continue;
            }
            remap(v->keys[i].expr, map, r, sizeof(r));
            add_item(q, r, false, v->keys[i].cd->t == CT_DBL && v->keys[i].fn == KF_NONE, v->keys[i].cd);
            snprintf(q->group[q->ngroup++], 256, "%s", r);
        }
        for (int i = 0; i < v->naggs; i++) {
            if (uses_dropped(v->aggs[i].arg, map) || !chance(70)) {
                continue;
            }
            remap(v->aggs[i].arg, map, r, sizeof(r));
            agg_text(t, sizeof(t), v->aggs[i].fn, v->aggs[i].distinct, r);
            add_item(q, t, true, v->aggs[i].isfloat, v->aggs[i].cd);
        }
        if (q->nitems == 0) {
            add_item(q, "COUNT(*)", true, false, NULL);
        }
        return;
    }
    if (mode < 27) {
        /* DISTINCT keys / GROUP BY keys without aggregates */
        bool all = chance(60);
        for (int i = 0; i < v->nkeys; i++) {
            if (uses_dropped(v->keys[i].expr, map) || (!all && chance(40))) {
                continue;
            }
            remap(v->keys[i].expr, map, r, sizeof(r));
            add_item(q, r, false, false, v->keys[i].cd);
        }
        if (q->nitems == 0) {
            add_item(q, "COUNT(*)", true, false, NULL);
            q->agg = true;
            return;
        }
        if (chance(50)) {
            q->distinct = true;
        } else {
            q->agg = true;
            for (int i = 0; i < q->nitems; i++) {
                tc_fmt_cut(q->group[q->ngroup++], 256, "%s", q->items[i].text);
            }
        }
        return;
    }
    /* roll-up */
    q->agg = true;
    bool scalar = mode < 37;
    for (int i = 0; i < v->nkeys; i++) {
        if (!scalar && chance(55)) {
            kept[nkept++] = v->keys[i];
        } else {
            dropped[ndropped++] = v->keys[i];
        }
    }
    for (int i = 0; i < nkept; i++) {
        struct key *k = &kept[i];
        if (uses_dropped(k->expr, map)) {
            continue;
        }
        char e[256];
        if ((k->fn == KF_DATE || (k->fn == KF_NONE && k->cd->t == CT_DATE)) && chance(60)) {
            struct key k2;
            struct tcol tc;
            remap(k->base, map, tc.expr, sizeof(tc.expr));
            tc.cd = k->cd;
            make_key(&k2, &tc, rollups[rnd(NELEM(rollups))]);
            snprintf(e, sizeof(e), "%s", k2.expr);
            if (k2.fn == KF_YEAR && chance(50)) {
                make_key(&k2, &tc, KF_MONTH);
                add_item(q, e, false, false, k->cd);
                snprintf(q->group[q->ngroup++], 256, "%s", e);
                snprintf(e, sizeof(e), "%s", k2.expr);
            }
        } else if (k->fn == KF_NONE && k->cd->t == CT_INT && chance(10)) {
            remap(k->expr, map, r, sizeof(r));
            snprintf(e, sizeof(e), "%s %% 3", r);
        } else {
            remap(k->expr, map, e, sizeof(e));
        }
        add_item(q, e, false, k->cd->t == CT_DBL && k->fn == KF_NONE, k->cd);
        snprintf(q->group[q->ngroup++], 256, "%s", e);
    }
    if (chance(20) && q->nitems > 0) {
        /* a grouping key not in the select list */
        q->nitems--;
    }
    derive_aggs(q, v, map, dropped, ndropped);
}

static void
gen_query_from_spj_view(struct qspec *q, const struct view *v, const int *map)
{
    copy_preds(q, v, map);
    extra_preds(q, v, map);
    char r[200], t[400];
    const struct key *out[MAXK];
    int nout = 0;
    for (int i = 0; i < v->nkeys; i++) {
        if (!uses_dropped(v->keys[i].expr, map)) {
            out[nout++] = &v->keys[i];
        }
    }
    if (nout == 0 || chance(40)) {
        /* projection */
        for (int i = 0; i < nout; i++) {
            if (chance(65)) {
                remap(out[i]->expr, map, r, sizeof(r));
                add_item(q, r, false, out[i]->cd->t == CT_DBL, out[i]->cd);
            }
        }
        if (q->nitems == 0) {
            add_item(q, "COUNT(*)", true, false, NULL);
            q->agg = true;
        }
        q->distinct = chance(20);
        return;
    }
    q->agg = true;
    int ng = rnd_range(0, 2);
    for (int i = 0; i < ng; i++) {
        const struct key *k = out[rnd(nout)];
        if ((k->cd->role & R_DIM) == 0) {
            continue;
        }
        char e[256];
        remap(k->expr, map, r, sizeof(r));
        if (k->fn == KF_NONE && (k->cd->t == CT_DT || k->cd->t == CT_DATE)) {
            struct key k2;
            struct tcol tc;
            snprintf(tc.expr, sizeof(tc.expr), "%s", r);
            tc.cd = k->cd;
            make_key(&k2, &tc, rollups[rnd(NELEM(rollups))]);
            snprintf(e, sizeof(e), "%s", k2.expr);
        } else {
            snprintf(e, sizeof(e), "%s", r);
        }
        bool dup = false;
        for (int j = 0; j < q->ngroup; j++) {
            dup = dup || strcmp(q->group[j], e) == 0;
        }
        if (dup) {
            continue;
        }
        add_item(q, e, false, k->cd->t == CT_DBL, k->cd);
        snprintf(q->group[q->ngroup++], 256, "%s", e);
    }
    int na = rnd_range(1, 3);
    for (int i = 0; i < na; i++) {
        const struct key *k = out[rnd(nout)];
        remap(k->expr, map, r, sizeof(r));
        const char *fn;
        bool distinct = false;
        int x = rnd(100);
        if (x < 15) {
            add_item(q, "COUNT(*)", true, false, NULL);
            continue;
        }
        if ((k->cd->role & R_MEAS) != 0 && k->fn == KF_NONE) {
            fn = x < 45 ? "SUM" : x < 60 ? "AVG" : x < 75 ? "COUNT" : x < 88 ? "MIN" : "MAX";
        } else {
            fn = x < 50 ? "COUNT" : x < 75 ? "MIN" : "MAX";
            distinct = x < 40;
        }
        agg_text(t, sizeof(t), fn, distinct, r);
        add_item(q, t, true, k->cd->t == CT_DBL && strcmp(fn, "COUNT") != 0, k->cd);
    }
}

/*
 * Join-back: add columns of the query tables the view lacks (not in the image
 * of MAP) to Q: grouping keys and outputs, an aggregate over one of their
 * measures, so that rewritten queries read them next to the view.
 */
static void
joinback_items(struct qspec *q, const int *map)
{
    bool inview[3] = {false, false, false};
    struct tcol tc[64];
    int ntc, nr = 0, idx[64];
    if (map == NULL || !chance(70)) {
        return;
    }
    for (int i = 0; i < 3; i++) {
        if (map[i] >= 0 && map[i] < 3) {
            inview[map[i]] = true;
        }
    }
    ntc = tmpl_cols(q->t, tc);
    for (int i = 0; i < ntc; i++) {
        if (!inview[tc[i].ti]) {
            idx[nr++] = i;
        }
    }
    if (nr == 0) {
        return;
    }
    for (int k = rnd_range(1, 2); k > 0; k--) {
        const struct tcol *c = &tc[idx[rnd(nr)]];
        if ((c->cd->role & R_DIM) == 0 || q->ngroup >= MAXK + 2) {
            continue;
        }
        bool dup = false;
        for (int j = 0; j < q->ngroup; j++) {
            dup = dup || strcmp(q->group[j], c->expr) == 0;
        }
        for (int j = 0; j < q->nitems; j++) {
            dup = dup || strcmp(q->items[j].text, c->expr) == 0;
        }
        if (dup) {
            continue;
        }
        add_item(q, c->expr, false, c->cd->t == CT_DBL, c->cd);
        if (q->agg) {
            snprintf(q->group[q->ngroup++], 256, "%s", c->expr);
        }
    }
    if (q->agg && chance(50)) {
        const struct tcol *c = &tc[idx[rnd(nr)]];
        char t[400];
        if ((c->cd->role & R_MEAS) != 0) {
            int x = rnd(100);
            const char *fn = x < 40 ? "SUM" : x < 60 ? "COUNT" : x < 80 ? "MIN" : "MAX";
            agg_text(t, sizeof(t), fn, false, c->expr);
            add_item(q, t, true, c->cd->t == CT_DBL && strcmp(fn, "COUNT") != 0, c->cd);
        } else {
            agg_text(t, sizeof(t), "COUNT", chance(50), c->expr);
            add_item(q, t, true, false, c->cd);
        }
    }
}

/* A random query from nothing in particular (it may still match a view). */
static void
gen_query_random(struct qspec *q)
{
    struct view tmp;
    gen_view(&tmp, "tmp");
    q->t = tmp.t;
    if (tmp.agg) {
        gen_query_from_agg_view(q, &tmp, NULL);
    } else {
        gen_query_from_spj_view(q, &tmp, NULL);
    }
    free(tmp.sql);
}

/* HAVING, ORDER BY + LIMIT decorations. */
static void
decorate(struct qspec *q, bool allow_limit)
{
    if (q->agg && q->ngroup > 0 && chance(20)) {
        for (int i = 0; i < q->nitems; i++) {
            const struct qitem *it = &q->items[i];
            if (!it->isagg || it->isfloat || strchr(it->text, '/') != NULL) {
                continue;
            }
            if (strncmp(it->text, "COUNT", 5) == 0) {
                tc_fmt_cut(q->having, sizeof(q->having), "%s > %d", it->text, rnd_range(0, 30));
            } else if (it->cd != NULL && (it->cd->t == CT_INT || it->cd->t == CT_DEC)) {
                tc_fmt_cut(q->having, sizeof(q->having), "%s >= %.2f", it->text,
                         it->cd->lo + (it->cd->hi - it->cd->lo) * rnd(100) / 20.0);
            } else {
                continue;
            }
            break;
        }
    }
    if (allow_limit && !q->float_out && chance(20)) {
        q->limit = rnd_range(1, 25);
        q->offset = chance(20) ? rnd_range(1, 5) : 0;
    }
}

struct qtext {
    char *sql;
    const char *kind;               /* for stats */
};

/* Render Q with ALIAS; names: alias every output (c1..) when FORCE_ALIAS. */
static char *
render_query(const struct qspec *q, bool force_alias, const char *const *alias, bool qualify,
             bool comma, bool order_by)
{
    struct sb b = {0};
    sb_add(&b, "SELECT %s", q->distinct ? "DISTINCT " : "");
    for (int i = 0; i < q->nitems; i++) {
        sb_add(&b, "%s", i ? ", " : "");
        render(&b, q->items[i].text, alias, qualify, NULL);
        if (force_alias) {
            sb_add(&b, " AS c%d", i + 1);
        } else if ((i * 7 + q->nitems) % 3 == 0) {
            sb_add(&b, " AS %s%d", q->items[i].isagg ? "agg" : "k", i + 1);
        }
    }
    sb_add(&b, " FROM ");
    render_from(&b, q->t, alias, comma);
    bool first = true;
    if (comma) {
        const struct tmpl *tp = &tmpls[q->t];
        bool all_inner = tp->ntab > 1;
        for (int i = 1; i < tp->ntab; i++) {
            all_inner = all_inner && strcmp(tp->join[i], "JOIN") == 0;
        }
        if (all_inner) {
            render_comma_where(&b, q->t, alias, &first);
        }
    }
    for (int i = 0; i < q->npreds; i++) {
        if (g_derive >= 0 && pred_only_on(&q->preds[i], g_derive)) {
            continue; /* filtered inside the derived table */
        }
        sb_add(&b, "%s", first ? " WHERE " : " AND ");
        first = false;
        render_pred(&b, &q->preds[i], alias, qualify, NULL);
    }
    if (q->ngroup > 0) {
        sb_add(&b, " GROUP BY ");
        for (int i = 0; i < q->ngroup; i++) {
            sb_add(&b, "%s", i ? ", " : "");
            render(&b, q->group[i], alias, qualify, NULL);
        }
    }
    if (q->having[0] != '\0') {
        sb_add(&b, " HAVING ");
        render(&b, q->having, alias, qualify, NULL);
    }
    if (order_by && q->limit > 0) {
        sb_add(&b, " ORDER BY ");
        for (int i = 0; i < q->nitems; i++) {
            sb_add(&b, "%s%d%s", i ? ", " : "", i + 1, chance(30) ? " DESC" : "");
        }
        sb_add(&b, " LIMIT %d", q->limit);
        if (q->offset > 0) {
            sb_add(&b, " OFFSET %d", q->offset);
        }
    }
    return sb_take(&b);
}

static void
pick_aliases(int t, const char **alias)
{
    for (int i = 0; i < tmpls[t].ntab; i++) {
        const char *const *a = tabs[tmpls[t].tab[i]].aliases;
        int n = 0;
        while (a[n] != NULL) {
            n++;
        }
        alias[i] = a[rnd(n)];
    }
    /* aliases must differ */
    for (int i = 1; i < tmpls[t].ntab; i++) {
        for (int j = 0; j < i; j++) {
            if (strcmp(alias[i], alias[j]) == 0) {
                alias[i] = tabs[tmpls[t].tab[i]].aliases[0];
                alias[j] = tabs[tmpls[t].tab[j]].aliases[0];
            }
        }
    }
}

/* Generate one query over VIEWS (NV of them). */
static char *
gen_query(struct view *views, int nv, const char **kind)
{
    struct qspec q;
    memset(&q, 0, sizeof(q));
    const struct view *v = NULL;
    const int *map = NULL;
    int r = rnd(100);
    if (r < 12 || nv == 0) {
        *kind = "random";
        gen_query_random(&q);
    } else {
        for (int tries = 0; tries < 10 && (v == NULL || !v->created); tries++) {
            v = &views[rnd(nv)];
        }
        q.t = v->t;
        *kind = v->agg ? "agg-view" : "spj-view";
        if (r < 30) {
            int cand[NELEM(relates)], nc = 0;
            for (int i = 0; i < NELEM(relates); i++) {
                if (relates[i].vt == v->t) {
                    cand[nc++] = i;
                }
            }
            if (nc > 0) {
                const struct relate *rl = &relates[cand[rnd(nc)]];
                q.t = rl->qt;
                map = rl->map;
                *kind = "related";
            }
        }
        q.map = map;
        if (v->agg) {
            gen_query_from_agg_view(&q, v, map);
        } else {
            gen_query_from_spj_view(&q, v, map);
            joinback_items(&q, map);
        }
    }
    const char *alias[3];
    if (chance(50)) {
        default_aliases(q.t, alias);
    } else {
        pick_aliases(q.t, alias);
    }
    bool qualify = tmpls[q.t].ntab > 1 || chance(50);
    bool comma = chance(25);
    int wrap = rnd(100);
    if (wrap < 10) {
        /* subquery in FROM */
        decorate(&q, true);
        char *inner = render_query(&q, true, alias, qualify, comma, true);
        struct sb b = {0};
        int w = rnd(100);
        if (w < 20) {
            sb_add(&b, "WITH t AS (%s) SELECT * FROM t", inner);
        } else if (w < 60) {
            sb_add(&b, "SELECT * FROM (%s) t", inner);
            if (chance(50)) {
                sb_add(&b, " WHERE c1 IS NOT NULL");
            }
        } else {
            sb_add(&b, "SELECT COUNT(*) AS n, COUNT(c1) AS n1 FROM (%s) t", inner);
        }
        free(inner);
        *kind = "subquery";
        return sb_take(&b);
    }
    if (wrap < 20 && v != NULL) {
        /* UNION ALL of two blocks with the same shape, other filters */
        decorate(&q, false);
        char *a = render_query(&q, false, alias, qualify, comma, false);
        struct qspec q2 = q;
        q2.npreds = 0;
        copy_preds(&q2, v, map);
        extra_preds(&q2, v, map);
        char *b2 = render_query(&q2, false, alias, qualify, false, false);
        /* UNION (distinct) only without float outputs: sums of doubles in
         * another order may differ in the last bits, and so de-duplicate
         * differently (never claim bit-equality of float sums) */
        char *s = tc_fmt("%s UNION%s %s", a, !q.float_out && chance(25) ? "" : " ALL", b2);
        free(a);
        free(b2);
        *kind = "union";
        return s;
    }
    decorate(&q, true);
    if (wrap < 30) {
        /* one table read through a derived table holding its filters */
        g_derive = rnd(tmpls[q.t].ntab);
        g_dpreds = q.preds;
        g_ndpreds = q.npreds;
        char *s = render_query(&q, false, alias, true, comma, true);
        g_derive = -1;
        *kind = "derived";
        return s;
    }
    return render_query(&q, false, alias, qualify, comma, true);
}

/* ---- comparison ---------------------------------------------------------- */

static bool
float_eq9(const char *a, const char *b)
{
    if (strcmp(a, b) == 0) {
        return true;
    }
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (*ea != '\0' || *eb != '\0') {
        return false;
    }
    double scale = fmax(fabs(x), fabs(y));
    return fabs(x - y) <= 1e-9 * scale || fabs(x - y) < 1e-12;
}

static bool
is_string_type(enum enum_field_types t)
{
    return t == MYSQL_TYPE_VAR_STRING || t == MYSQL_TYPE_STRING || t == MYSQL_TYPE_VARCHAR ||
           t == MYSQL_TYPE_BLOB || t == MYSQL_TYPE_TINY_BLOB || t == MYSQL_TYPE_MEDIUM_BLOB ||
           t == MYSQL_TYPE_LONG_BLOB;
}

/*
 * Are WANT and GOT equal once string values are compared case-insensitively?
 * Under the backend's _ci collation a GROUP BY / DISTINCT over 'Acme' and
 * 'acme' shows an arbitrary member of the group (MariaDB leaves it
 * indeterminate), so such rows differ only in the representative's case.
 */
static bool
equal_folded(const struct tc_res *want, const struct tc_res *got)
{
    if (want->nrows != got->nrows || want->ncols != got->ncols) {
        return false;
    }
    int nc = want->ncols;
    bool *fl = tc_float_cols(want), *fo = calloc((size_t)nc + 1, sizeof(bool));
    for (int c = 0; c < nc; c++) {
        fo[c] = is_string_type(want->types[c]);
    }
    /* keys lower-cased whole: rows differing only in case sort together */
    struct keyed_row *a = tc_keyed_sorted(want, fl, true);
    struct keyed_row *b = tc_keyed_sorted(got, fl, true);
    bool eq = true;
    for (long i = 0; i < want->nrows && eq; i++) {
        for (int c = 0; c < nc && eq; c++) {
            const char *x = a[i].row[c], *y = b[i].row[c];
            if (x == NULL || y == NULL) {
                eq = x == y;
            } else if (fl[c]) {
                eq = float_eq9(x, y);
            } else if (fo[c]) {
                eq = strcasecmp(x, y) == 0;
            } else {
                eq = strcmp(x, y) == 0;
            }
        }
    }
    tc_keyed_free(a, want->nrows);
    tc_keyed_free(b, got->nrows);
    free(fl);
    free(fo);
    return eq;
}

/*
 * Compare WANT (direct) and GOT (proxy): 0 equal, 1 rows differ, 2 names
 * differ, 3 rows differ only in the letter case of string values (see
 * equal_folded). Like tc_res_compare, but with a 1e-9 relative float
 * tolerance.
 */
static int
compare(const struct tc_res *want, const struct tc_res *got, char *diff, size_t difflen)
{
    diff[0] = '\0';
    if (want->err != 0 || got->err != 0) {
        if (want->err == got->err) {
            return 0;
        }
        snprintf(diff, difflen, "error differs: direct %u (%.200s), proxy %u (%.200s)", want->err,
                 want->errmsg, got->err, got->errmsg);
        return 1;
    }
    if (want->ncols != got->ncols) {
        snprintf(diff, difflen, "column count differs: direct %d, proxy %d", want->ncols, got->ncols);
        return 1;
    }
    int nc = want->ncols;
    bool *fl = tc_float_cols(want);
    struct keyed_row *a = tc_keyed_sorted(want, fl, false);
    struct keyed_row *b = tc_keyed_sorted(got, fl, false);
    int rc = 0;
    if (want->nrows != got->nrows) {
        snprintf(diff, difflen, "row count differs: direct %ld, proxy %ld; ", want->nrows, got->nrows);
        rc = 1;
    }
    long n = want->nrows < got->nrows ? want->nrows : got->nrows;
    for (long i = 0; i < n; i++) {
        bool eq = true;
        for (int c = 0; c < nc && eq; c++) {
            const char *x = a[i].row[c], *y = b[i].row[c];
            if (x == NULL || y == NULL) {
                eq = x == y;
            } else if (fl[c]) {
                eq = float_eq9(x, y);
            } else {
                eq = strcmp(x, y) == 0;
            }
        }
        if (!eq) {
            size_t l = strlen(diff);
            snprintf(diff + l, difflen - l, "first differing sorted row %ld: ", i);
            append_row(diff, difflen, "direct", a[i].row, nc);
            append_row(diff, difflen, "proxy", b[i].row, nc);
            rc = 1;
            break;
        }
    }
    if (rc != 0 && n == 0) {
        if (want->nrows > 0) {
            append_row(diff, difflen, "direct first", a[0].row, nc);
        } else if (got->nrows > 0) {
            append_row(diff, difflen, "proxy first", b[0].row, nc);
        }
    }
    tc_keyed_free(a, want->nrows);
    tc_keyed_free(b, got->nrows);
    free(fl);
    if (rc != 0 && equal_folded(want, got)) {
        return 3;
    }
    if (rc == 0) {
        for (int c = 0; c < nc; c++) {
            if (strcmp(want->names[c], got->names[c]) != 0) {
                snprintf(diff, difflen, "column %d name differs: direct `%s`, proxy `%s`", c + 1,
                         want->names[c], got->names[c]);
                return 2;
            }
        }
    }
    return rc;
}

static void
print_rows(const char *label, const struct tc_res *r, int max)
{
    printf("  %s: %ld rows", label, r->nrows);
    if (r->err) {
        printf(" (error %u: %s)", r->err, r->errmsg);
    }
    printf("\n    [");
    for (int c = 0; c < r->ncols; c++) {
        printf("%s%s", c ? " | " : "", r->names[c]);
    }
    printf("]\n");
    for (long i = 0; i < r->nrows && i < max; i++) {
        printf("    ");
        for (int c = 0; c < r->ncols; c++) {
            printf("%s%s", c ? " | " : "", r->rows[i][c] ? r->rows[i][c] : "NULL");
        }
        printf("\n");
    }
    if (r->nrows > max) {
        printf("    ... %ld more\n", r->nrows - max);
    }
}

/* ---- self-test of the comparison (no database) --------------------------- */

static struct tc_res
mkres(enum enum_field_types t1, enum enum_field_types t2, const char *const *cells, long nrows)
{
    struct tc_res r;
    memset(&r, 0, sizeof(r));
    r.ncols = 2;
    r.names = calloc(3, sizeof(char *));
    r.types = calloc(3, sizeof(*r.types));
    r.names[0] = strdup("a");
    r.names[1] = strdup("b");
    r.types[0] = t1;
    r.types[1] = t2;
    r.rows = calloc((size_t)nrows + 1, sizeof(char **));
    for (long i = 0; i < nrows; i++) {
        r.rows[i] = calloc(3, sizeof(char *));
        for (int c = 0; c < 2; c++) {
            r.rows[i][c] = tc_strdup(cells[i * 2 + c]);
        }
    }
    r.nrows = nrows;
    return r;
}

static int
self_test(void)
{
    int bad = 0;
    char d[4096];
    enum enum_field_types S = MYSQL_TYPE_VAR_STRING, N = MYSQL_TYPE_NEWDECIMAL, D = MYSQL_TYPE_DOUBLE;
    const char *a[] = {"x", "1.50", "y", NULL, "x", "1.50"};
    const char *b[] = {"y", NULL, "x", "1.50", "x", "1.50"};
    const char *c[] = {"y", "NULL", "x", "1.50", "x", "1.50"};
    const char *e[] = {"x", "1.5", "y", NULL, "x", "1.50"};
    const char *f[] = {"X", "1.50", "y", NULL, "x", "1.50"};
    const char *g[] = {"x", "0.30000000000000004", "y", "1e20"};
    const char *h[] = {"y", "1.00000000000000002e20", "x", "0.3"};
    const char *i2[] = {"y", "1e20", "x", "0.3000001"};
    struct tc_res A = mkres(S, N, a, 3), B = mkres(S, N, b, 3), C = mkres(S, N, c, 3);
    struct tc_res E = mkres(S, N, e, 3), F = mkres(S, N, f, 3), A2 = mkres(S, N, a, 2);
    struct tc_res G = mkres(S, D, g, 2), H = mkres(S, D, h, 2), I = mkres(S, D, i2, 2);
    bad += compare(&A, &B, d, sizeof(d)) != 0;     /* same multiset, other order */
    bad += compare(&A, &C, d, sizeof(d)) != 1;     /* NULL is not 'NULL' */
    bad += compare(&A, &E, d, sizeof(d)) != 1;     /* decimal scale is text */
    bad += compare(&A, &F, d, sizeof(d)) != 3;     /* letter case only */
    bad += compare(&A, &A2, d, sizeof(d)) != 1;    /* duplicates count */
    bad += compare(&G, &H, d, sizeof(d)) != 0;     /* double within 1e-9 */
    bad += compare(&G, &I, d, sizeof(d)) != 1;     /* double beyond 1e-9 */
    free(B.names[1]);
    B.names[1] = strdup("B");
    bad += compare(&A, &B, d, sizeof(d)) != 2;     /* column names */
    struct tc_res *all[] = {&A, &B, &C, &E, &F, &A2, &G, &H, &I};
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
        tc_res_free(all[k]);
    }
    printf("self-test: %s\n", bad == 0 ? "ok" : "FAILED");
    return bad;
}

/* ---- main ------------------------------------------------------------------ */

static long seed = 1;
static const char *failures_path = "difftest_failures.case";
static bool verbose;

static void
write_reproducer(long qno, const char *query, const char *diff, struct view *views, int nv,
                 const char *emitted)
{
    FILE *f = fopen(failures_path, "a");
    if (f == NULL) {
        perror(failures_path);
        return;
    }
    char *setup = setup_text(seed);
    fprintf(f, "\n-- case: difftest_seed%ld_q%ld\n", seed, qno);
    fprintf(f, "-- why: found by difftest --seed %ld (query %ld): %.300s\n", seed, qno, diff);
    fprintf(f, "-- expect: any\n-- schema:\n%s\n", setup);
    bool any = false;
    for (int pass = 0; pass < 2 && !any; pass++) {
        for (int i = 0; i < nv; i++) {
            if (!views[i].created) {
                continue;
            }
            /* the views the emitted SQL names (pass 0), else all of them */
            if (pass == 0) {
                char pat[128];
                snprintf(pat, sizeof(pat), "`%.31s`", views[i].name);
                if (emitted == NULL || strstr(emitted, pat) == NULL) {
                    continue;
                }
            }
            fprintf(f, "-- view %s:\n%s\n", views[i].name, views[i].sql);
            any = true;
        }
    }
    fprintf(f, "-- query:\n%s\n", query);
    fclose(f);
    free(setup);
}

int
main(int argc, char **argv)
{
    long nqueries = 500;
    double budget = 0;
    int vmin = 5, vmax = 20, per_round = 60;
    bool keep = false, print_setup = false;
    static struct option lo[] = {
        {"seed", required_argument, 0, 's'},       {"queries", required_argument, 0, 'n'},
        {"time-budget", required_argument, 0, 't'}, {"views-min", required_argument, 0, 'a'},
        {"views-max", required_argument, 0, 'b'},  {"per-round", required_argument, 0, 'r'},
        {"failures", required_argument, 0, 'f'},   {"verbose", no_argument, 0, 'v'},
        {"keep", no_argument, 0, 'k'},             {"print-setup", no_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},             {"self-test", no_argument, 0, 'S'},
        {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "s:n:t:f:vkh", lo, NULL)) != -1) {
        switch (ch) {
        case 's': seed = atol(optarg); break;
        case 'n': nqueries = atol(optarg); break;
        case 't': budget = atof(optarg); break;
        case 'a': vmin = atoi(optarg); break;
        case 'b': vmax = atoi(optarg); break;
        case 'r': per_round = atoi(optarg); break;
        case 'f': failures_path = optarg; break;
        case 'v': verbose = true; break;
        case 'k': keep = true; break;
        case 'P': print_setup = true; break;
        case 'S': return self_test() == 0 ? 0 : 1;
        default:
            fprintf(stderr,
                    "usage: difftest [--seed S] [--queries N] [--time-budget SEC] [--views-min N]\n"
                    "                [--views-max N] [--per-round N] [--failures FILE] [--verbose]\n"
                    "                [--keep] [--print-setup] [--self-test]\n"
                    "env: MVP_DB_HOST MVP_DB_PORT MVP_DB_USER MVP_DB_PASSWORD, MVP_PROXY_BIN or\n"
                    "     MVP_BUILD_DIR (mvproxy started here), or MVP_PROXY_PORT (running proxy)\n");
            return ch == 'h' ? 0 : 2;
        }
    }
    if (vmax < vmin) {
        vmax = vmin;
    }
    if (print_setup) {
        char *s = setup_text(seed);
        printf("%s;\n", s);
        free(s);
        return 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    rng_state = (uint64_t)seed * 0x2545F4914F6CDD1DULL + 12345;
    const char *db_host = tc_env("MVP_DB_HOST", "127.0.0.1");
    int db_port = atoi(tc_env("MVP_DB_PORT", "3306"));
    const char *db_user = tc_env("MVP_DB_USER", "root");
    const char *db_pass = getenv("MVP_DB_PASSWORD") != NULL ? getenv("MVP_DB_PASSWORD") : "";
    char err[TC_ERRLEN], db[64], meta[64];
    snprintf(db, sizeof(db), "difftest_%ld", seed);
    snprintf(meta, sizeof(meta), "mvp_difftest_meta_%ld", seed);
    double t0 = tc_now();

    MYSQL *dm = tc_connect(db_host, db_port, db_user, db_pass, NULL, 120, err);
    if (dm == NULL) {
        fprintf(stderr, "difftest: backend: %s\n", err);
        return 1;
    }
    char *s = tc_fmt("DROP DATABASE IF EXISTS %s", db);
    tc_exec(dm, s, NULL);
    free(s);
    s = tc_fmt("CREATE DATABASE %s", db);
    if (tc_exec(dm, s, err) != 0) {
        fprintf(stderr, "difftest: %s\n", err);
        return 1;
    }
    free(s);
    mysql_select_db(dm, db);
    {
        char *setup = setup_text(seed);
        char *sv = NULL;
        for (char *st = strtok_r(setup, ";", &sv); st != NULL; st = strtok_r(NULL, ";", &sv)) {
            if (strspn(st, " \n\t") == strlen(st)) {
                continue;
            }
            if (tc_exec(dm, st, err) != 0) {
                fprintf(stderr, "difftest: setup failed: %s\n  in: %s\n", err, st);
                return 1;
            }
        }
        free(setup);
    }

    struct tc_proxy proxy;
    memset(&proxy, 0, sizeof(proxy));
    int proxy_port;
    if (getenv("MVP_PROXY_PORT") != NULL) {
        proxy_port = atoi(getenv("MVP_PROXY_PORT"));
    } else {
        char guess[4096], logpath[256];
        snprintf(guess, sizeof(guess), "%s/mvproxy", tc_env("MVP_BUILD_DIR", "."));
        const char *bin = tc_env("MVP_PROXY_BIN", guess);
        s = tc_fmt("DROP DATABASE IF EXISTS %s", meta);
        tc_exec(dm, s, NULL);
        free(s);
        snprintf(logpath, sizeof(logpath), "/tmp/difftest-mvproxy-%d.log", (int)getpid());
        if (tc_proxy_start(&proxy, bin, db_host, db_port, meta, logpath, db_user, db_pass, err) != 0) {
            fprintf(stderr, "difftest: %s\n", err);
            return 1;
        }
        proxy_port = proxy.port;
        printf("difftest: seed %ld, mvproxy pid %d port %d, log %s\n", seed, (int)proxy.pid,
               proxy_port, logpath);
    }
    MYSQL *px = tc_connect("127.0.0.1", proxy_port, db_user, db_pass, db, 120, err);
    if (px == NULL) {
        fprintf(stderr, "difftest: proxy: %s\n", err);
        tc_proxy_stop(&proxy);
        return 1;
    }
    printf("difftest: setup done in %.1f s\n", tc_now() - t0);

    long nq = 0, nrw = 0, nmis = 0, nerr = 0, nviews = 0, nrefused = 0, ncase = 0;
    long kind_n[8] = {0}, kind_rw[8] = {0};
    const char *kinds[8] = {"agg-view", "spj-view", "related", "random", "subquery", "union",
                            "derived", NULL};
    bool proxy_died = false;
    int round = 0;
    struct view views[64];
    int maxv = vmax < 64 ? vmax : 64;
    while (!proxy_died && (budget > 0 ? tc_now() - t0 < budget : nq < nqueries)) {
        round++;
        int nv = rnd_range(vmin, maxv);
        for (int i = 0; i < nv; i++) {
            char name[32];
            snprintf(name, sizeof(name), "dv%d_%d", round, i);
            gen_view(&views[i], name);
            char *cr = tc_fmt("CREATE MATERIALIZED VIEW %s BUILD IMMEDIATE REFRESH COMPLETE ON "
                              "MANUAL AS %s",
                              name, views[i].sql);
            if (tc_exec(px, cr, err) == 0) {
                views[i].created = true;
                nviews++;
            } else {
                nrefused++;
                if (verbose) {
                    printf("view %s refused: %s\n  %s\n", name, err, views[i].sql);
                }
                if (strstr(err, "2013") == err || strstr(err, "2006") == err) {
                    proxy_died = !tc_proxy_alive(&proxy);
                }
            }
            free(cr);
        }
        for (int qi = 0; qi < per_round && !proxy_died; qi++) {
            if (budget > 0 ? tc_now() - t0 >= budget : nq >= nqueries) {
                break;
            }
            const char *kind = "?";
            char *query = gen_query(views, nv, &kind);
            nq++;
            int ki = 0;
            while (kinds[ki] != NULL && strcmp(kinds[ki], kind) != 0) {
                ki++;
            }
            kind_n[ki]++;
            struct tc_res got, want;
            struct tc_explain ex;
            tc_query(px, query, &got);
            if (got.err == 2013 || got.err == 2006) {
                if (!tc_proxy_alive(&proxy)) {
                    proxy_died = true;
                }
            }
            int erc = proxy_died ? -1 : tc_explain(px, query, &ex);
            if (erc != 0) {
                memset(&ex, 0, sizeof(ex));
            }
            tc_query(dm, query, &want);
            if (ex.rewritten) {
                nrw++;
                kind_rw[ki]++;
            }
            char diff[4096];
            int cmp = compare(&want, &got, diff, sizeof(diff));
            if (proxy_died) {
                cmp = 1;
                snprintf(diff, sizeof(diff), "the proxy died");
            }
            if (cmp == 3) {
                ncase++;
                if (ncase <= 3 || verbose) {
                    printf("\ncase-only difference (seed %ld, query %ld, %s; not counted): %s\n"
                           "  query: %s\n  emitted sql: %s\n",
                           seed, nq, kind, diff, query, ex.sql != NULL ? ex.sql : "(none)");
                }
            } else if (cmp != 0) {
                nmis++;
                printf("\nMISMATCH (seed %ld, query %ld, %s): %s\n", seed, nq, kind, diff);
                printf("  query: %s\n", query);
                printf("  explain: %s\n", ex.rewritten ? "REWRITTEN" : "NOT_REWRITTEN");
                if (ex.detail != NULL) {
                    printf("%s", ex.detail);
                }
                printf("  emitted sql: %s\n", ex.sql != NULL ? ex.sql : "(none)");
                printf("  views:\n");
                for (int i = 0; i < nv; i++) {
                    if (views[i].created &&
                        (ex.sql == NULL || strstr(ex.sql, views[i].name) != NULL)) {
                        printf("    %s: %s\n", views[i].name, views[i].sql);
                    }
                }
                print_rows("direct", &want, 10);
                print_rows("proxy", &got, 10);
                write_reproducer(nq, query, diff, views, nv, ex.sql);
            } else if (want.err != 0) {
                nerr++;
                if (verbose) {
                    printf("error both ways (%u %s): %s\n", want.err, want.errmsg, query);
                }
            } else if (verbose) {
                printf("ok %s %s rows=%ld: %s\n", ex.rewritten ? "RW" : "--", kind, want.nrows, query);
            }
            tc_res_free(&got);
            tc_res_free(&want);
            tc_explain_free(&ex);
            free(query);
            if (nq % 1000 == 0) {
                printf("progress: %ld queries, %ld rewritten, %ld mismatches, %.0f s\n", nq, nrw,
                       nmis, tc_now() - t0);
            }
        }
        for (int i = 0; i < nv; i++) {
            if (views[i].created && !proxy_died) {
                char *dr = tc_fmt("DROP MATERIALIZED VIEW IF EXISTS %s", views[i].name);
                if (tc_exec(px, dr, err) != 0) {
                    printf("difftest: drop %s: %s\n", views[i].name, err);
                }
                free(dr);
            }
            free(views[i].sql);
        }
    }
    double el = tc_now() - t0;
    printf("\ndifftest seed %ld: %d rounds, views created %ld, refused %ld, %.1f s\n", seed, round,
           nviews, nrefused, el);
    for (int k = 0; kinds[k] != NULL; k++) {
        printf("  %-9s queries %6ld, rewritten %6ld (%.0f%%)\n", kinds[k], kind_n[k], kind_rw[k],
               kind_n[k] ? 100.0 * kind_rw[k] / kind_n[k] : 0.0);
    }
    printf("case-only differences (indeterminate representative of a _ci group): %ld\n", ncase);
    printf("queries %ld, rewritten %ld (%.1f%%), mismatches %ld, errors %ld\n", nq, nrw,
           nq ? 100.0 * nrw / nq : 0.0, nmis, nerr);
    if (proxy_died) {
        char st[64];
        tc_describe_status(proxy.status, st, sizeof(st));
        printf("difftest: the proxy died (%s)\n", st);
    }
    mysql_close(px);
    if (!keep) {
        s = tc_fmt("DROP DATABASE IF EXISTS %s", db);
        tc_exec(dm, s, NULL);
        free(s);
    }
    if (proxy.pid != 0) {
        tc_proxy_stop(&proxy);
        s = tc_fmt("DROP DATABASE IF EXISTS %s", meta);
        tc_exec(dm, s, NULL);
        free(s);
    }
    mysql_close(dm);
    long failed = nmis + (proxy_died ? 1 : 0);
    printf("%ld passed, %ld failed\n", nq - nmis, failed);
    return failed > 0 ? 1 : 0;
}
