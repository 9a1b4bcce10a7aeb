-- bench/tpch/views_ssb.sql - materialized views for the SSB queries,
-- created through mvproxy: lineorder joined with its dimensions,
-- aggregated at the grain of each query flight (year / month, brand,
-- category, region, nation). Each statement starts at a line "-- @name".
-- @mv_s1_discount
-- Flight 1 (Q1.1, Q1.2): revenue by month, discount and quantity.
CREATE MATERIALIZED VIEW mv_s1_discount BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT d_year, d_yearmonthnum, lo_discount, lo_quantity,
       SUM(lo_extendedprice * lo_discount) AS revenue, COUNT(*) AS cnt
FROM lineorder, dates
WHERE lo_orderdate = d_datekey
GROUP BY d_year, d_yearmonthnum, lo_discount, lo_quantity;
-- @mv_s2_brand
-- Flight 2 (Q2.1-Q2.3): revenue by year, brand, category, supplier region.
CREATE MATERIALIZED VIEW mv_s2_brand BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT d_year, p_category, p_brand, s_region, SUM(lo_revenue) AS revenue, COUNT(*) AS cnt
FROM lineorder, dates, part, supplier
WHERE lo_orderdate = d_datekey AND lo_partkey = p_partkey AND lo_suppkey = s_suppkey
GROUP BY d_year, p_category, p_brand, s_region;
-- @mv_s3_nation
-- Flight 3 (Q3.1): revenue by customer and supplier nation and year.
CREATE MATERIALIZED VIEW mv_s3_nation BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT c_region, c_nation, s_region, s_nation, d_year, SUM(lo_revenue) AS revenue, COUNT(*) AS cnt
FROM customer, lineorder, supplier, dates
WHERE lo_custkey = c_custkey AND lo_suppkey = s_suppkey AND lo_orderdate = d_datekey
GROUP BY c_region, c_nation, s_region, s_nation, d_year;
-- @mv_s41_profit
-- Q4.1: profit by year, customer region and nation, supplier region,
-- manufacturer.
CREATE MATERIALIZED VIEW mv_s41_profit BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT d_year, c_region, c_nation, s_region, p_mfgr, SUM(lo_revenue - lo_supplycost) AS profit, COUNT(*) AS cnt
FROM dates, customer, supplier, part, lineorder
WHERE lo_custkey = c_custkey AND lo_suppkey = s_suppkey AND lo_partkey = p_partkey AND lo_orderdate = d_datekey
GROUP BY d_year, c_region, c_nation, s_region, p_mfgr;
-- @mv_s42_profit
-- Q4.2: profit by year, customer region, supplier region and nation,
-- manufacturer and category.
CREATE MATERIALIZED VIEW mv_s42_profit BUILD IMMEDIATE REFRESH COMPLETE ON MANUAL
PROPERTIES ('grace_period' = '3600') AS
SELECT d_year, c_region, s_region, s_nation, p_mfgr, p_category, SUM(lo_revenue - lo_supplycost) AS profit,
       COUNT(*) AS cnt
FROM dates, customer, supplier, part, lineorder
WHERE lo_custkey = c_custkey AND lo_suppkey = s_suppkey AND lo_partkey = p_partkey AND lo_orderdate = d_datekey
GROUP BY d_year, c_region, s_region, s_nation, p_mfgr, p_category;
