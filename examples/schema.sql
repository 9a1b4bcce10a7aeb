-- examples/schema.sql - the base table of the real-time sales dashboard
-- (../shared/seeds/000-realtime-sales-dashboard.txt). Run directly against
-- MariaDB (not through the proxy): the proxy needs nothing special for base
-- tables. A plain InnoDB table; the generator (examples/gen_sales.sh) fills it.
CREATE DATABASE IF NOT EXISTS sales_demo;
USE sales_demo;

DROP TABLE IF EXISTS raw_sales;
CREATE TABLE raw_sales (
    sale_id      BIGINT        NOT NULL,          -- order line id
    sale_date    DATETIME      NOT NULL,          -- when the sale happened
    region_id    INT           NOT NULL,          -- 1..20
    category_id  INT           NOT NULL,          -- 1..40
    product_id   INT           NOT NULL,          -- 1..5000
    customer_id  INT           NOT NULL,          -- 1..100000
    status       VARCHAR(16)   NOT NULL,          -- completed (~80%), pending, cancelled, refunded
    sale_amount  DECIMAL(12,2) NOT NULL,
    cost_amount  DECIMAL(12,2) NOT NULL,
    PRIMARY KEY (sale_id),
    KEY idx_sale_date (sale_date),               -- "today" and date-range dashboard filters
    KEY idx_status_date (status, sale_date)      -- the completed-orders filter every layer uses
) ENGINE=InnoDB;
