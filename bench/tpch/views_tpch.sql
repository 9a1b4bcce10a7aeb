-- bench/tpch/views_tpch.sql - materialized views for the TPC-H queries,
-- created through mvproxy (Doris syntax). Designed the way Doris's
-- materialized-view best practices say: an aggregate at the grain the
-- queries roll up from (their filter and GROUP BY columns, dates truncated
-- to the month where the queries' ranges are whole months), the joins the
-- queries make, and the measures as SUM/COUNT (AVG from SUM/COUNT).
-- Each statement starts at a line "-- @name" (bench/tpch.sh times each).
-- @mv_q1_pricing
-- Q1: lineitem by flags and ship day (~10k rows of 300k at SF 0.05).
CREATE MATERIALIZED VIEW mv_q1_pricing BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT l_returnflag, l_linestatus, l_shipdate, SUM(l_quantity) AS sum_qty,
       SUM(l_extendedprice) AS sum_base_price, SUM(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
       SUM(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, SUM(l_discount) AS sum_disc,
       COUNT(l_quantity) AS cnt_qty, COUNT(l_extendedprice) AS cnt_price, COUNT(l_discount) AS cnt_disc,
       COUNT(*) AS count_order
FROM lineitem
GROUP BY l_returnflag, l_linestatus, l_shipdate;
-- @mv_q3_shipping
-- Q3: revenue per order with the segment and both dates the query filters on.
CREATE MATERIALIZED VIEW mv_q3_shipping BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT c_mktsegment, l_orderkey, o_orderdate, o_shippriority, l_shipdate,
       SUM(l_extendedprice * (1 - l_discount)) AS revenue
FROM customer, orders, lineitem
WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey
GROUP BY c_mktsegment, l_orderkey, o_orderdate, o_shippriority, l_shipdate;
-- @mv_q5_local_supplier
-- Q5: revenue of local suppliers (customer and supplier in one nation) by
-- nation, region and order month.
CREATE MATERIALIZED VIEW mv_q5_local_supplier BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT n_name, r_name, CAST(DATE_FORMAT(o_orderdate, '%Y-%m-01') AS DATETIME) AS o_month,
       SUM(l_extendedprice * (1 - l_discount)) AS revenue, COUNT(*) AS cnt
FROM customer, orders, lineitem, supplier, nation, region
WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey
  AND c_nationkey = s_nationkey AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey
GROUP BY n_name, r_name, CAST(DATE_FORMAT(o_orderdate, '%Y-%m-01') AS DATETIME);
-- @mv_q10_returned
-- Q10: revenue per customer by order month and return flag.
CREATE MATERIALIZED VIEW mv_q10_returned BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT c_custkey, c_name, c_acctbal, c_phone, n_name, c_address, c_comment, l_returnflag,
       CAST(DATE_FORMAT(o_orderdate, '%Y-%m-01') AS DATETIME) AS o_month,
       SUM(l_extendedprice * (1 - l_discount)) AS revenue
FROM customer, orders, lineitem, nation
WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND c_nationkey = n_nationkey
GROUP BY c_custkey, c_name, c_acctbal, c_phone, n_name, c_address, c_comment, l_returnflag,
         CAST(DATE_FORMAT(o_orderdate, '%Y-%m-01') AS DATETIME);
-- @mv_q12_shipmode
-- Q12: late lines by ship mode and receipt month, high/low priority counts.
CREATE MATERIALIZED VIEW mv_q12_shipmode BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT l_shipmode, CAST(DATE_FORMAT(l_receiptdate, '%Y-%m-01') AS DATETIME) AS r_month,
       SUM(CASE WHEN o_orderpriority = '1-URGENT' OR o_orderpriority = '2-HIGH' THEN 1 ELSE 0 END) AS high_line_count,
       SUM(CASE WHEN o_orderpriority <> '1-URGENT' AND o_orderpriority <> '2-HIGH' THEN 1 ELSE 0 END) AS low_line_count
FROM orders, lineitem
WHERE o_orderkey = l_orderkey AND l_commitdate < l_receiptdate AND l_shipdate < l_commitdate
GROUP BY l_shipmode, CAST(DATE_FORMAT(l_receiptdate, '%Y-%m-01') AS DATETIME);
-- @mv_q13_cust_orders
-- Q13: orders per customer (the query's derived table).
CREATE MATERIALIZED VIEW mv_q13_cust_orders BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT c_custkey, COUNT(o_orderkey) AS c_count
FROM customer LEFT OUTER JOIN orders ON c_custkey = o_custkey AND o_comment NOT LIKE '%special%requests%'
GROUP BY c_custkey;
-- @mv_q14_promo
-- Q14: promotion and total revenue by ship month.
CREATE MATERIALIZED VIEW mv_q14_promo BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT CAST(DATE_FORMAT(l_shipdate, '%Y-%m-01') AS DATETIME) AS s_month,
       SUM(CASE WHEN p_type LIKE 'PROMO%' THEN l_extendedprice * (1 - l_discount) ELSE 0 END) AS promo_rev,
       SUM(l_extendedprice * (1 - l_discount)) AS rev
FROM lineitem, part
WHERE l_partkey = p_partkey
GROUP BY CAST(DATE_FORMAT(l_shipdate, '%Y-%m-01') AS DATETIME);
-- @mv_q15_supp_revenue
-- Q15: revenue per supplier by ship month.
CREATE MATERIALIZED VIEW mv_q15_supp_revenue BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT l_suppkey, CAST(DATE_FORMAT(l_shipdate, '%Y-%m-01') AS DATETIME) AS s_month,
       SUM(l_extendedprice * (1 - l_discount)) AS total_revenue
FROM lineitem
GROUP BY l_suppkey, CAST(DATE_FORMAT(l_shipdate, '%Y-%m-01') AS DATETIME);
-- @mv_q18_order_qty
-- Q18: quantity per order.
CREATE MATERIALIZED VIEW mv_q18_order_qty BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT l_orderkey, SUM(l_quantity) AS sum_qty, COUNT(*) AS cnt
FROM lineitem
GROUP BY l_orderkey;
