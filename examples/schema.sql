-- examples/schema.sql - the base table of the real-time sales dashboard
-- (../shared/seeds/000-realtime-sales-dashboard.txt). Run directly against
-- MariaDB (not through the proxy): the proxy needs nothing special for base
-- tables. examples/gen_sales.sh fills it.
--
-- raw_sales is RANGE COLUMNS partitioned by day on sale_date, as the Doris
-- best practices (../shared/seeds/001-doris-async-mv-best-practices.txt,
-- "Prefer partitioned materialized views") want the base of a partitioned
-- view: a new sale changes one day's partition, so only that day of the
-- DWD view goes stale, only that day is recomputed by REFRESH ... AUTO, and
-- "today" queries read one partition (partition pruning replaces the date
-- indexes of an unpartitioned table).
--
-- Partitions: p_history holds everything before 2024-01-01 (the views
-- ignore it: the seed's DWD keeps sale_date >= '2024-01-01'); then one
-- partition per day, named Doris-style pYYYYMMDD for [day, day + 1),
-- created by raw_sales_add_day_partitions(first_day, last_day) below. There
-- is no MAXVALUE catch-all: a sale dated after the last partition is
-- refused (ERROR 1526 "Table has no partition for value ..."), as in Doris
-- without dynamic partitions. So partition maintenance is part of running
-- this table:
--   * at setup, the generator's span: the 90 days up to today, plus a few
--     days ahead (demo.sh: CALL raw_sales_add_day_partitions(
--     CURDATE() - INTERVAL 89 DAY, CURDATE() + INTERVAL 3 DAY));
--   * every day, tomorrow's (and a few more days') partitions ahead of
--     time: the event raw_sales_daily_partitions below does it when
--     MariaDB runs with event_scheduler=ON (cron calling the procedure does
--     too). Adding an empty partition marks no view partition stale.
--   * old days are dropped with ALTER TABLE raw_sales DROP PARTITION
--     pYYYYMMDD; the proxy marks only the view partitions over that day
--     stale (through the proxy, or seen in the binary log).
CREATE DATABASE IF NOT EXISTS sales_demo;
USE sales_demo;

DROP EVENT IF EXISTS raw_sales_daily_partitions;
DROP TABLE IF EXISTS raw_sales;
CREATE TABLE raw_sales (
    sale_id      BIGINT        NOT NULL,          -- order line id
    sale_date    DATETIME      NOT NULL,          -- when the sale happened; the partition key
    region_id    INT           NOT NULL,          -- 1..20
    category_id  INT           NOT NULL,          -- 1..40
    product_id   INT           NOT NULL,          -- 1..5000
    customer_id  INT           NOT NULL,          -- 1..100000
    status       VARCHAR(16)   NOT NULL,          -- completed (~80%), pending, cancelled, refunded
    sale_amount  DECIMAL(12,2) NOT NULL,
    cost_amount  DECIMAL(12,2) NOT NULL,
    -- A partitioned table's unique keys must contain the partition column.
    PRIMARY KEY (sale_id, sale_date)
) ENGINE=InnoDB
PARTITION BY RANGE COLUMNS (sale_date) (
    PARTITION p_history VALUES LESS THAN ('2024-01-01 00:00:00')
);

-- raw_sales_add_day_partitions(first_day, last_day): adds one partition per
-- day up to and including last_day, after the current last partition. Days
-- before first_day that are not covered yet go into one partition
-- p_before_YYYYMMDD (empty in the demo). Idempotent: days already covered
-- are skipped, so calling it daily with (CURDATE(), CURDATE() + 3) is the
-- whole maintenance. One ALTER TABLE ... ADD PARTITION for all new days.
DROP PROCEDURE IF EXISTS raw_sales_add_day_partitions;
DELIMITER //
CREATE PROCEDURE raw_sales_add_day_partitions(IN first_day DATE, IN last_day DATE)
BEGIN
    DECLARE bound DATE;
    DECLARE parts TEXT DEFAULT '';
    SELECT MAX(CAST(TRIM(BOTH '''' FROM PARTITION_DESCRIPTION) AS DATE)) INTO bound
    FROM information_schema.PARTITIONS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'raw_sales'
      AND PARTITION_DESCRIPTION <> 'MAXVALUE';
    IF bound < first_day THEN
        SET parts = CONCAT('PARTITION p_before_', DATE_FORMAT(first_day, '%Y%m%d'),
                           ' VALUES LESS THAN (''', first_day, ' 00:00:00'')');
        SET bound = first_day;
    END IF;
    WHILE bound <= last_day DO
        SET parts = CONCAT(parts, IF(parts = '', '', ', '),
                           'PARTITION p', DATE_FORMAT(bound, '%Y%m%d'),
                           ' VALUES LESS THAN (''', bound + INTERVAL 1 DAY, ' 00:00:00'')');
        SET bound = bound + INTERVAL 1 DAY;
    END WHILE;
    IF parts <> '' THEN
        SET @raw_sales_ddl = CONCAT('ALTER TABLE raw_sales ADD PARTITION (', parts, ')');
        PREPARE stmt FROM @raw_sales_ddl;
        EXECUTE stmt;
        DEALLOCATE PREPARE stmt;
    END IF;
END //
DELIMITER ;

-- The daily maintenance, for a server with event_scheduler=ON (the demo's
-- private MariaDB runs without it; demo.sh calls the procedure itself).
CREATE EVENT raw_sales_daily_partitions
    ON SCHEDULE EVERY 1 DAY STARTS CURDATE() + INTERVAL 1 DAY + INTERVAL 1 HOUR
    DO CALL raw_sales_add_day_partitions(CURDATE(), CURDATE() + INTERVAL 7 DAY);
