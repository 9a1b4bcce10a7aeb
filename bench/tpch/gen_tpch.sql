-- bench/tpch/gen_tpch.sql - a deterministic TPC-H-shaped data set, made with
-- MariaDB's sequence engine (seq_1_to_N) and CRC32 of the row number as the
-- "random" source (the same data on every run). bench/tpch.sh replaces
-- __P__ (parts, 200000*SF), __S__ (suppliers, 10000*SF), __C__ (customers,
-- 150000*SF), __O__ (orders, 1500000*SF) and __CLERKS__ (1000*SF).
-- Value domains follow TPC-H spec 4.2.3 closely enough for the 22 queries:
-- order dates 1992-01-01 .. 1998-08-02, ship = order + 1..121 days, commit =
-- order + 30..90, receipt = ship + 1..30, returnflag R/A when received by
-- 1995-06-17 else N, linestatus O when shipped after 1995-06-17 else F;
-- 1..7 lines per order; only customers whose key is not a multiple of 3 order
-- (so Q13/Q22 find customers without orders); supplier i of part p is
-- (p + i*(S/4 + (p-1)/S)) mod S + 1 (spec 4.2.3), so lineitem's (partkey,
-- suppkey) is always a partsupp row; o_totalprice and o_orderstatus are
-- computed from the lines as the spec says.
SET @colors = 'almond antique aquamarine azure beige bisque black blanched blue blush brown burlywood burnished chartreuse chiffon chocolate coral cornflower cornsilk cream cyan dark deep dim dodger drab firebrick floral forest frosted gainsboro ghost goldenrod green grey honeydew hot indian ivory khaki lace lavender lawn lemon light lime linen magenta maroon medium metallic midnight mint misty moccasin navajo navy olive orange orchid pale papaya peach peru pink plum powder puff purple red rose rosy royal saddle salmon sandy seashell sienna sky slate smoke snow spring steel tan thistle tomato turquoise violet wheat white yellow';
SET @words = 'furiously carefully quickly slyly blithely ironic final regular special pending express bold even silent unusual deposits requests accounts packages instructions theodolites foxes ideas pinto beans platelets dependencies excuses asymptotes sleep wake haggle nag use boost affix detect integrate cajole';

INSERT INTO region VALUES
 (0,'AFRICA','lar deposits'),(1,'AMERICA','hs use ironic requests'),(2,'ASIA','ges thinly even pinto beans'),
 (3,'EUROPE','ly final courts'),(4,'MIDDLE EAST','uickly special accounts');
INSERT INTO nation VALUES
 (0,'ALGERIA',0,'c'),(1,'ARGENTINA',1,'c'),(2,'BRAZIL',1,'c'),(3,'CANADA',1,'c'),(4,'EGYPT',4,'c'),
 (5,'ETHIOPIA',0,'c'),(6,'FRANCE',3,'c'),(7,'GERMANY',3,'c'),(8,'INDIA',2,'c'),(9,'INDONESIA',2,'c'),
 (10,'IRAN',4,'c'),(11,'IRAQ',4,'c'),(12,'JAPAN',2,'c'),(13,'JORDAN',4,'c'),(14,'KENYA',0,'c'),
 (15,'MOROCCO',0,'c'),(16,'MOZAMBIQUE',0,'c'),(17,'PERU',1,'c'),(18,'CHINA',2,'c'),(19,'ROMANIA',3,'c'),
 (20,'SAUDI ARABIA',4,'c'),(21,'VIETNAM',2,'c'),(22,'RUSSIA',3,'c'),(23,'UNITED KINGDOM',3,'c'),
 (24,'UNITED STATES',1,'c');

INSERT INTO supplier
SELECT seq, CONCAT('Supplier#', LPAD(seq, 9, '0')),
       CONCAT('addr ', CRC32(CONCAT('sa', seq))),
       nk, CONCAT(nk + 10, '-', 100 + MOD(CRC32(CONCAT('sp1', seq)), 900), '-',
                  100 + MOD(CRC32(CONCAT('sp2', seq)), 900), '-', 1000 + MOD(CRC32(CONCAT('sp3', seq)), 9000)),
       (CAST(MOD(CRC32(CONCAT('sb', seq)), 1099999) AS SIGNED) - 99999) / 100,
       CASE WHEN MOD(seq, 100) = 7 THEN 'blithely Customer regular Complaints sleep'
            WHEN MOD(seq, 100) = 57 THEN 'furiously Customer ironic Recommends wake'
            ELSE CONCAT(SUBSTRING_INDEX(SUBSTRING_INDEX(@words, ' ', 1 + MOD(CRC32(CONCAT('sc1', seq)), 37)), ' ', -1), ' ',
                        SUBSTRING_INDEX(SUBSTRING_INDEX(@words, ' ', 1 + MOD(CRC32(CONCAT('sc2', seq)), 37)), ' ', -1)) END
FROM (SELECT seq, MOD(CRC32(CONCAT('sn', seq)), 25) AS nk FROM seq_1_to___S__) s;

INSERT INTO part
SELECT seq,
       CONCAT_WS(' ',
         SUBSTRING_INDEX(SUBSTRING_INDEX(@colors, ' ', 1 + MOD(CRC32(CONCAT('pn1', seq)), 92)), ' ', -1),
         SUBSTRING_INDEX(SUBSTRING_INDEX(@colors, ' ', 1 + MOD(CRC32(CONCAT('pn2', seq)), 92)), ' ', -1),
         SUBSTRING_INDEX(SUBSTRING_INDEX(@colors, ' ', 1 + MOD(CRC32(CONCAT('pn3', seq)), 92)), ' ', -1),
         SUBSTRING_INDEX(SUBSTRING_INDEX(@colors, ' ', 1 + MOD(CRC32(CONCAT('pn4', seq)), 92)), ' ', -1),
         SUBSTRING_INDEX(SUBSTRING_INDEX(@colors, ' ', 1 + MOD(CRC32(CONCAT('pn5', seq)), 92)), ' ', -1)),
       CONCAT('Manufacturer#', m), CONCAT('Brand#', m, 1 + MOD(CRC32(CONCAT('pb', seq)), 5)),
       CONCAT(ELT(1 + MOD(CRC32(CONCAT('pt1', seq)), 6), 'STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'), ' ',
              ELT(1 + MOD(CRC32(CONCAT('pt2', seq)), 5), 'ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'), ' ',
              ELT(1 + MOD(CRC32(CONCAT('pt3', seq)), 5), 'TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER')),
       1 + MOD(CRC32(CONCAT('ps', seq)), 50),
       CONCAT(ELT(1 + MOD(CRC32(CONCAT('pc1', seq)), 5), 'SM', 'LG', 'MED', 'JUMBO', 'WRAP'), ' ',
              ELT(1 + MOD(CRC32(CONCAT('pc2', seq)), 8), 'CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM')),
       (90000 + MOD(seq DIV 10, 20001) + 100 * MOD(seq, 1000)) / 100,
       SUBSTRING_INDEX(SUBSTRING_INDEX(@words, ' ', 1 + MOD(CRC32(CONCAT('pm', seq)), 37)), ' ', -1)
FROM (SELECT seq, 1 + MOD(CRC32(CONCAT('pf', seq)), 5) AS m FROM seq_1_to___P__) s;

INSERT INTO partsupp
SELECT p.seq, MOD(p.seq + i.seq * (__S__ DIV 4 + (p.seq - 1) DIV __S__), __S__) + 1,
       1 + MOD(CRC32(CONCAT('pa', p.seq, '.', i.seq)), 9999),
       (100 + MOD(CRC32(CONCAT('pw', p.seq, '.', i.seq)), 99901)) / 100,
       CONCAT(SUBSTRING_INDEX(SUBSTRING_INDEX(@words, ' ', 1 + MOD(CRC32(CONCAT('px', p.seq, i.seq)), 37)), ' ', -1), ' deposits')
FROM seq_1_to___P__ p JOIN seq_0_to_3 i;

INSERT INTO customer
SELECT seq, CONCAT('Customer#', LPAD(seq, 9, '0')), CONCAT('caddr ', CRC32(CONCAT('ca', seq))),
       nk, CONCAT(nk + 10, '-', 100 + MOD(CRC32(CONCAT('cp1', seq)), 900), '-',
                  100 + MOD(CRC32(CONCAT('cp2', seq)), 900), '-', 1000 + MOD(CRC32(CONCAT('cp3', seq)), 9000)),
       (CAST(MOD(CRC32(CONCAT('cb', seq)), 1099999) AS SIGNED) - 99999) / 100,
       ELT(1 + MOD(CRC32(CONCAT('cm', seq)), 5), 'AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD'),
       CONCAT(SUBSTRING_INDEX(SUBSTRING_INDEX(@words, ' ', 1 + MOD(CRC32(CONCAT('cc1', seq)), 37)), ' ', -1), ' ',
              SUBSTRING_INDEX(SUBSTRING_INDEX(@words, ' ', 1 + MOD(CRC32(CONCAT('cc2', seq)), 37)), ' ', -1))
FROM (SELECT seq, MOD(CRC32(CONCAT('cn', seq)), 25) AS nk FROM seq_1_to___C__) s;

-- o_orderstatus and o_totalprice are filled from the lines below.
INSERT INTO orders
SELECT seq,
       3 * MOD(CRC32(CONCAT('oc', seq)), __C__ DIV 3) + 1 + MOD(CRC32(CONCAT('od2', seq)), 2),
       'O', 0,
       DATE '1992-01-01' + INTERVAL MOD(CRC32(CONCAT('od', seq)), 2406) DAY,
       ELT(1 + MOD(CRC32(CONCAT('op', seq)), 5), '1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'),
       CONCAT('Clerk#', LPAD(1 + MOD(CRC32(CONCAT('ok', seq)), __CLERKS__), 9, '0')),
       0,
       CASE WHEN MOD(CRC32(CONCAT('om', seq)), 100) < 2 THEN 'carefully special packages haggle requests'
            ELSE CONCAT(SUBSTRING_INDEX(SUBSTRING_INDEX(@words, ' ', 1 + MOD(CRC32(CONCAT('oo1', seq)), 37)), ' ', -1), ' ',
                        SUBSTRING_INDEX(SUBSTRING_INDEX(@words, ' ', 1 + MOD(CRC32(CONCAT('oo2', seq)), 37)), ' ', -1)) END
FROM seq_1_to___O__;

INSERT INTO lineitem
SELECT x.o_orderkey, x.pk,
       MOD(x.pk + x.si * (__S__ DIV 4 + (x.pk - 1) DIV __S__), __S__) + 1,
       x.ln, x.qty, x.qty * p.p_retailprice, x.disc, x.tax,
       CASE WHEN x.rd <= DATE '1995-06-17' THEN IF(MOD(CRC32(CONCAT('lr', x.o_orderkey, '.', x.ln)), 2) = 0, 'R', 'A') ELSE 'N' END,
       IF(x.sd > DATE '1995-06-17', 'O', 'F'),
       x.sd, x.cd, x.rd,
       ELT(1 + MOD(CRC32(CONCAT('li', x.o_orderkey, '.', x.ln)), 4), 'DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN'),
       ELT(1 + MOD(CRC32(CONCAT('lm', x.o_orderkey, '.', x.ln)), 7), 'REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB'),
       SUBSTRING_INDEX(SUBSTRING_INDEX(@words, ' ', 1 + MOD(CRC32(CONCAT('lc', x.o_orderkey, x.ln)), 37)), ' ', -1)
FROM (SELECT o.o_orderkey, s.seq AS ln,
             1 + MOD(CRC32(CONCAT('lp', o.o_orderkey, '.', s.seq)), __P__) AS pk,
             MOD(CRC32(CONCAT('ls', o.o_orderkey, '.', s.seq)), 4) AS si,
             1 + MOD(CRC32(CONCAT('lq', o.o_orderkey, '.', s.seq)), 50) AS qty,
             MOD(CRC32(CONCAT('ld', o.o_orderkey, '.', s.seq)), 11) / 100 AS disc,
             MOD(CRC32(CONCAT('lt', o.o_orderkey, '.', s.seq)), 9) / 100 AS tax,
             o.o_orderdate + INTERVAL 1 + MOD(CRC32(CONCAT('lsd', o.o_orderkey, '.', s.seq)), 121) DAY AS sd,
             o.o_orderdate + INTERVAL 30 + MOD(CRC32(CONCAT('lcd', o.o_orderkey, '.', s.seq)), 61) DAY AS cd,
             o.o_orderdate + INTERVAL 1 + MOD(CRC32(CONCAT('lsd', o.o_orderkey, '.', s.seq)), 121) DAY
                           + INTERVAL 1 + MOD(CRC32(CONCAT('lrd', o.o_orderkey, '.', s.seq)), 30) DAY AS rd
      FROM orders o JOIN seq_1_to_7 s ON s.seq <= 1 + MOD(CRC32(CONCAT('ln', o.o_orderkey)), 7)) x
JOIN part p ON p.p_partkey = x.pk;

UPDATE orders o JOIN (
    SELECT l_orderkey,
           SUM(l_extendedprice * (1 + l_tax) * (1 - l_discount)) AS tp,
           CASE WHEN SUM(l_linestatus = 'F') = COUNT(*) THEN 'F'
                WHEN SUM(l_linestatus = 'O') = COUNT(*) THEN 'O' ELSE 'P' END AS st
    FROM lineitem GROUP BY l_orderkey) t ON t.l_orderkey = o.o_orderkey
SET o.o_totalprice = t.tp, o.o_orderstatus = t.st;

-- Engine-independent statistics with histograms (MariaDB's
-- use_stat_tables=PREFERABLY_FOR_QUERIES default reads them): without them
-- the backend's EXPLAIN assumes every row of a filtered scan of an
-- unindexed column passes (filtered 100%), and the proxy's cost check, which
-- multiplies those estimates, would think a selective dimension filter reads
-- 30x more rows than it does (SSB Q1.2 was then answered from a view slower
-- than the original: see README "TPC-H and SSB").
ANALYZE TABLE region, nation, supplier, part, partsupp, customer, orders, lineitem PERSISTENT FOR ALL;
