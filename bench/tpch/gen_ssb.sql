-- bench/tpch/gen_ssb.sql - a deterministic SSB-shaped data set (sequence
-- engine + CRC32 of the row number). bench/tpch.sh replaces __LO__ (orders;
-- 1..7 lines each, ~4*__LO__ lineorder rows), __C__ (customers), __S__
-- (suppliers), __P__ (parts). Domains as in SSB 3.0: 25 nations in 5
-- regions, cities = the nation's first 9 letters + a digit 0..9
-- ('UNITED KI1'), p_mfgr MFGR#1..5, p_category MFGR#11..55, p_brand
-- MFGR#<category>1..40, dates 1992-01-01 .. 1998-12-31 (order dates up to
-- 1998-08-02), discounts 0..10, quantities 1..50.
SET @nations = 'ALGERIA:AFRICA,ARGENTINA:AMERICA,BRAZIL:AMERICA,CANADA:AMERICA,EGYPT:MIDDLE EAST,ETHIOPIA:AFRICA,FRANCE:EUROPE,GERMANY:EUROPE,INDIA:ASIA,INDONESIA:ASIA,IRAN:MIDDLE EAST,IRAQ:MIDDLE EAST,JAPAN:ASIA,JORDAN:MIDDLE EAST,KENYA:AFRICA,MOROCCO:AFRICA,MOZAMBIQUE:AFRICA,PERU:AMERICA,CHINA:ASIA,ROMANIA:EUROPE,SAUDI ARABIA:MIDDLE EAST,VIETNAM:ASIA,RUSSIA:EUROPE,UNITED KINGDOM:EUROPE,UNITED STATES:AMERICA';
SET @colors = 'almond antique aquamarine azure beige bisque black blanched blue blush brown burlywood burnished chartreuse chiffon chocolate coral cornflower cornsilk cream cyan dark deep dim dodger drab firebrick floral forest frosted gainsboro ghost goldenrod green grey honeydew hot indian ivory khaki lace lavender lawn lemon light lime linen magenta maroon medium metallic midnight mint misty moccasin navajo navy olive orange orchid pale papaya peach peru pink plum powder puff purple red rose rosy royal saddle salmon sandy seashell sienna sky slate smoke snow spring steel tan thistle tomato turquoise violet wheat white yellow';

INSERT INTO dates
SELECT DATE_FORMAT(d, '%Y%m%d') + 0, DATE_FORMAT(d, '%M %e, %Y'), DAYNAME(d), MONTHNAME(d), YEAR(d),
       YEAR(d) * 100 + MONTH(d), DATE_FORMAT(d, '%b%Y'), DAYOFWEEK(d), DAYOFMONTH(d), DAYOFYEAR(d),
       MONTH(d), WEEK(d, 0) + 1,
       CASE WHEN MONTH(d) = 12 THEN 'Christmas' WHEN MONTH(d) IN (6, 7, 8) THEN 'Summer'
            WHEN MONTH(d) IN (3, 4, 5) THEN 'Spring' WHEN MONTH(d) IN (9, 10, 11) THEN 'Fall' ELSE 'Winter' END,
       DAYOFWEEK(d) = 7, d = LAST_DAY(d), (MONTH(d) = 12 AND DAYOFMONTH(d) = 25) OR (MONTH(d) = 1 AND DAYOFMONTH(d) = 1),
       DAYOFWEEK(d) BETWEEN 2 AND 6
FROM (SELECT DATE '1992-01-01' + INTERVAL seq DAY AS d FROM seq_0_to_2556) s;

INSERT INTO customer
SELECT seq, CONCAT('Customer#', LPAD(seq, 9, '0')), CONCAT('caddr', CRC32(CONCAT('ca', seq))),
       CONCAT(RPAD(SUBSTRING_INDEX(nr, ':', 1), 9, ' '), MOD(CRC32(CONCAT('cy', seq)), 10)),
       SUBSTRING_INDEX(nr, ':', 1), SUBSTRING_INDEX(nr, ':', -1),
       CONCAT(10 + nk, '-', 100 + MOD(CRC32(CONCAT('cp', seq)), 900), '-', 1000 + MOD(CRC32(CONCAT('cq', seq)), 9000)),
       ELT(1 + MOD(CRC32(CONCAT('cm', seq)), 5), 'AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD')
FROM (SELECT seq, nk, SUBSTRING_INDEX(SUBSTRING_INDEX(@nations, ',', nk + 1), ',', -1) AS nr
      FROM (SELECT seq, MOD(CRC32(CONCAT('cn', seq)), 25) AS nk FROM seq_1_to___C__) a) s;

INSERT INTO supplier
SELECT seq, CONCAT('Supplier#', LPAD(seq, 9, '0')), CONCAT('saddr', CRC32(CONCAT('sa', seq))),
       CONCAT(RPAD(SUBSTRING_INDEX(nr, ':', 1), 9, ' '), MOD(CRC32(CONCAT('sy', seq)), 10)),
       SUBSTRING_INDEX(nr, ':', 1), SUBSTRING_INDEX(nr, ':', -1),
       CONCAT(10 + nk, '-', 100 + MOD(CRC32(CONCAT('sp', seq)), 900), '-', 1000 + MOD(CRC32(CONCAT('sq', seq)), 9000))
FROM (SELECT seq, nk, SUBSTRING_INDEX(SUBSTRING_INDEX(@nations, ',', nk + 1), ',', -1) AS nr
      FROM (SELECT seq, MOD(CRC32(CONCAT('sn', seq)), 25) AS nk FROM seq_1_to___S__) a) s;

INSERT INTO part
SELECT seq,
       CONCAT_WS(' ', SUBSTRING_INDEX(SUBSTRING_INDEX(@colors, ' ', 1 + MOD(CRC32(CONCAT('pn1', seq)), 92)), ' ', -1),
                      SUBSTRING_INDEX(SUBSTRING_INDEX(@colors, ' ', 1 + MOD(CRC32(CONCAT('pn2', seq)), 92)), ' ', -1)),
       CONCAT('MFGR#', m), CONCAT('MFGR#', m, c), CONCAT('MFGR#', m, c, 1 + MOD(CRC32(CONCAT('pb', seq)), 40)),
       SUBSTRING_INDEX(SUBSTRING_INDEX(@colors, ' ', 1 + MOD(CRC32(CONCAT('pk', seq)), 92)), ' ', -1),
       CONCAT(ELT(1 + MOD(CRC32(CONCAT('pt1', seq)), 6), 'STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'), ' ',
              ELT(1 + MOD(CRC32(CONCAT('pt2', seq)), 5), 'ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'), ' ',
              ELT(1 + MOD(CRC32(CONCAT('pt3', seq)), 5), 'TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER')),
       1 + MOD(CRC32(CONCAT('ps', seq)), 50),
       CONCAT(ELT(1 + MOD(CRC32(CONCAT('pc1', seq)), 5), 'SM', 'LG', 'MED', 'JUMBO', 'WRAP'), ' ',
              ELT(1 + MOD(CRC32(CONCAT('pc2', seq)), 8), 'CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM'))
FROM (SELECT seq, 1 + MOD(CRC32(CONCAT('pm', seq)), 5) AS m, 1 + MOD(CRC32(CONCAT('pg', seq)), 5) AS c
      FROM seq_1_to___P__) s;

INSERT INTO lineorder
SELECT x.ok, x.ln, x.ck, x.pk, x.sk, DATE_FORMAT(x.od, '%Y%m%d') + 0, x.pri, '0', x.qty,
       x.qty * x.price, 0, x.disc, x.qty * x.price * (100 - x.disc) DIV 100, x.price * 6 DIV 10, x.tax,
       DATE_FORMAT(x.od + INTERVAL 30 + MOD(CRC32(CONCAT('lc', x.ok, '.', x.ln)), 61) DAY, '%Y%m%d') + 0,
       ELT(1 + MOD(CRC32(CONCAT('lm', x.ok, '.', x.ln)), 7), 'REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB')
FROM (SELECT o.seq AS ok, l.seq AS ln,
             1 + MOD(CRC32(CONCAT('oc', o.seq)), __C__) AS ck,
             1 + MOD(CRC32(CONCAT('lp', o.seq, '.', l.seq)), __P__) AS pk,
             1 + MOD(CRC32(CONCAT('ls', o.seq, '.', l.seq)), __S__) AS sk,
             DATE '1992-01-01' + INTERVAL MOD(CRC32(CONCAT('od', o.seq)), 2406) DAY AS od,
             ELT(1 + MOD(CRC32(CONCAT('op', o.seq)), 5), '1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW') AS pri,
             1 + MOD(CRC32(CONCAT('lq', o.seq, '.', l.seq)), 50) AS qty,
             90000 + MOD(CRC32(CONCAT('lx', o.seq, '.', l.seq)), 20001) + 0 AS price,
             MOD(CRC32(CONCAT('ld', o.seq, '.', l.seq)), 11) AS disc,
             MOD(CRC32(CONCAT('lt', o.seq, '.', l.seq)), 9) AS tax
      FROM seq_1_to___LO__ o JOIN seq_1_to_7 l ON l.seq <= 1 + MOD(CRC32(CONCAT('ln', o.seq)), 7)) x;

UPDATE lineorder lo JOIN (SELECT lo_orderkey, SUM(lo_extendedprice) AS t FROM lineorder GROUP BY lo_orderkey) t
    ON t.lo_orderkey = lo.lo_orderkey
SET lo.lo_ordtotalprice = t.t;

-- Engine-independent statistics with histograms (MariaDB's
-- use_stat_tables=PREFERABLY_FOR_QUERIES default reads them): without them
-- the backend's EXPLAIN assumes every row of a filtered scan of an
-- unindexed column passes (filtered 100%), and the proxy's cost check, which
-- multiplies those estimates, would think a selective dimension filter reads
-- 30x more rows than it does (SSB Q1.2 was then answered from a view slower
-- than the original: see README "TPC-H and SSB").
ANALYZE TABLE dates, customer, supplier, part, lineorder PERSISTENT FOR ALL;
