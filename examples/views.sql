-- examples/views.sql - the seed's three-layer warehouse
-- (../shared/seeds/000-realtime-sales-dashboard.txt) as mvproxy admin SQL in
-- MariaDB dialect. Send it to the PROXY port, not to MariaDB:
--     mariadb -h 127.0.0.1 -P <proxy port> -u root sales_demo < examples/views.sql
-- Each statement returns when its work is done (BUILD IMMEDIATE and REFRESH
-- wait for the build); a layer reads the layer below, so the order matters.
--
-- From the seed's GaussDB DDL to Doris/mvproxy DDL:
--   TO_DATE(sale_date)                     -> DATE(sale_date)   (MariaDB)
--   COUNT(ORDER BY DISTINCT customer_id)   -> COUNT(DISTINCT customer_id)
--   REFRESH FAST EVERY (interval '5 min')  -> REFRESH AUTO ON SCHEDULE EVERY
--       1 MINUTE on the DWD, REFRESH AUTO ON COMMIT on the DWS and ADS
--       (below; mvproxy accepts the seed's own spelling too)
--   PARTITION BY date_trunc('month', x)    -> PARTITION BY (date_trunc(x, 'month'))
--       (Doris's argument order; the seed's is accepted too)
--   WITH (orientation = COLUMN, ...)       -> dropped (MariaDB has no use for it)
--
-- customer_count: the seed's DWD counts distinct customers per (day,
-- region, category, product, customer) - always 1 - and the DWS and ADS
-- SUM it. That sum counts a customer once per product bought, so it is NOT
-- the number of distinct customers; examples/dashboard shows the
-- difference. The proxy never uses such a sum to answer COUNT(DISTINCT):
-- it answers COUNT(DISTINCT customer_id) from the DWD, where customer_id
-- is a grouping column. The columns stay because the seed has them.

-- How it is set up (../shared/seeds/001-doris-async-mv-best-practices.txt):
--
-- Partitions. raw_sales is RANGE partitioned by day (examples/schema.sql).
-- The DWD is PARTITION BY (sale_date): one view partition per day, over the
-- base partition of that day (its sale_date is DATE(raw_sales.sale_date),
-- which the proxy maps to the base column). A sale marks only its day
-- stale; a query needing a stale day is answered from the valid days of
-- the view UNION ALL the base table restricted to the stale days (SPEC
-- §5), so a burst of sales costs the dashboard one day's scan, not the
-- whole table; REFRESH ... AUTO recomputes only the stale days. The DWS is
-- PARTITION BY (date_trunc(sale_date, 'month')), as in the seed: a month
-- per partition over the DWD's days. The ADS (90 rows) stays unpartitioned.
--
-- Refresh (Doris's advice per layer: base layer scheduled, upper layers
-- triggered). The DWD runs REFRESH AUTO every minute - the seed's
-- "minute-level" freshness: each run recomputes the days that changed
-- (usually today only) and does nothing when nothing changed. The DWS and
-- ADS are ON COMMIT: when the DWD's refresh succeeds they refresh (AUTO:
-- the current month, then the 90-row ADS), in that order.
--
-- grace_period: how long a view may lag its base tables and still answer
-- (SPEC §5: an answer from a view includes every change committed more than
-- grace_period seconds before the query). The DWD: 0 - today's overview
-- (orders, distinct customers) is exact to the last sale; that costs
-- nothing much, because only today's partition is then read from
-- raw_sales. The DWS and ADS: 120 s - they feed the trend charts, which the
-- seed refreshes every 15/30 minutes anyway; with the DWD refreshed every
-- minute and these two right after it, they lag at most ~60 s plus a
-- refresh, so 120 s keeps them answering between refreshes (instead of
-- falling back to the DWD or raw_sales) while promising "at most two
-- minutes behind".
CREATE MATERIALIZED VIEW mv_dwd_sales
BUILD IMMEDIATE REFRESH AUTO ON SCHEDULE EVERY 1 MINUTE
PARTITION BY (sale_date)
COMMENT 'DWD: completed sales, cleansed, one row per day/region/category/product/customer'
PROPERTIES ("grace_period" = "0")
AS
SELECT
    DATE(sale_date) AS sale_date,
    region_id,
    category_id,
    product_id,
    customer_id,
    COUNT(*) AS order_count,
    SUM(sale_amount) AS total_amount,
    SUM(cost_amount) AS total_cost,
    COUNT(DISTINCT customer_id) AS customer_count
FROM raw_sales
WHERE status = 'completed'
  AND sale_date >= '2024-01-01'
GROUP BY DATE(sale_date), region_id, category_id, product_id, customer_id;

CREATE MATERIALIZED VIEW mv_dws_sales
BUILD IMMEDIATE REFRESH AUTO ON COMMIT
PARTITION BY (date_trunc(sale_date, 'month'))
COMMENT 'DWS: daily summary by region and category'
PROPERTIES ("grace_period" = "120")
AS
SELECT
    sale_date,
    region_id,
    category_id,
    SUM(order_count) AS order_count,
    SUM(total_amount) AS total_amount,
    SUM(total_cost) AS total_cost,
    SUM(customer_count) AS customer_count
FROM mv_dwd_sales
GROUP BY sale_date, region_id, category_id;

CREATE MATERIALIZED VIEW mv_ads_daily_summary
BUILD IMMEDIATE REFRESH AUTO ON COMMIT
COMMENT 'ADS: one row per day for the dashboard'
PROPERTIES ("grace_period" = "120")
AS
SELECT
    sale_date,
    SUM(order_count) AS total_orders,
    SUM(total_amount) AS total_sales,
    SUM(total_cost) AS total_cost,
    SUM(customer_count) AS total_customers,
    SUM(total_amount - total_cost) AS total_profit
FROM mv_dws_sales
GROUP BY sale_date;
