-- examples/dashboard.sql - the dashboard's queries, written the way a BI
-- tool sends them: against the base table raw_sales, with literal dates.
-- The proxy routes each one to the cheapest view that answers it exactly.
--
-- examples/dashboard reads this file: each query starts with a line
-- `-- query: <id> <title>` and ends with `;`. It substitutes, from the
-- server's CURDATE():
--   {today} {tomorrow}          today's date range
--   {last_month_start}          first day of last month
--   {this_month_start}          first day of this month
--   {trend_start}               29 days before today (a 30-day trend)
-- Lines starting with `--` inside a query are dropped; `-- query:` lines
-- with id starting `x` are run only for the distinct-customer comparison.

-- query: a Today's overview
SELECT COUNT(*) AS orders,
       SUM(sale_amount) AS sales,
       SUM(cost_amount) AS cost,
       SUM(sale_amount) - SUM(cost_amount) AS profit,
       COUNT(DISTINCT customer_id) AS customers
FROM raw_sales
WHERE status = 'completed'
  AND sale_date >= '{today}' AND sale_date < '{tomorrow}';

-- query: b Last month by region and category
SELECT region_id, category_id,
       COUNT(*) AS orders,
       SUM(sale_amount) AS sales,
       SUM(sale_amount) - SUM(cost_amount) AS profit
FROM raw_sales
WHERE status = 'completed'
  AND sale_date >= '{last_month_start}' AND sale_date < '{this_month_start}'
GROUP BY region_id, category_id
ORDER BY region_id, category_id;

-- query: c Daily trend, last 30 days
SELECT DATE(sale_date) AS day,
       COUNT(*) AS orders,
       SUM(sale_amount) AS sales,
       SUM(sale_amount) - SUM(cost_amount) AS profit
FROM raw_sales
WHERE status = 'completed'
  AND sale_date >= '{trend_start}' AND sale_date < '{tomorrow}'
GROUP BY DATE(sale_date)
ORDER BY day;

-- query: d Top regions this month (reads mv_dws_sales)
SELECT region_id, SUM(total_amount) AS sales, SUM(order_count) AS orders
FROM mv_dws_sales
WHERE sale_date >= '{this_month_start}' AND sale_date < '{tomorrow}'
GROUP BY region_id
ORDER BY sales DESC
LIMIT 5;

-- query: e Distinct customers, last 30 days
SELECT COUNT(DISTINCT customer_id) AS customers
FROM raw_sales
WHERE status = 'completed'
  AND sale_date >= '{trend_start}' AND sale_date < '{tomorrow}';

-- query: x1 The seed's customer figure for today (ADS total_customers)
SELECT total_customers FROM mv_ads_daily_summary WHERE sale_date = '{today}';

-- query: x2 The seed's customer figure, last 30 days (sum of ADS total_customers)
SELECT SUM(total_customers) FROM mv_ads_daily_summary
WHERE sale_date >= '{trend_start}' AND sale_date < '{tomorrow}';
