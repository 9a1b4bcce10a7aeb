<?php
// PHP mysqli (mysqlnd) in the real-client matrix (tests/clients/README.md):
// query(), server-side prepare(), multi_query(), send_long_data(),
// change_user(). mysqli (PHP 8.2) has no COM_RESET_CONNECTION call: reset
// is n/a unless a later PHP adds mysqli::reset_connection().
require __DIR__ . '/common.php';
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
$c = null;
function q($sql) {
    global $c;
    $r = $c->query($sql);
    if ($r instanceof mysqli_result) print_rows($r->fetch_all(MYSQLI_NUM));
}
function p($sql, $types, ...$args) {
    global $c;
    $s = $c->prepare($sql);
    if ($args) $s->bind_param($types, ...$args);
    $s->execute();
    $r = $s->get_result();
    if ($r) print_rows($r->fetch_all(MYSQLI_NUM));
    $s->close();
}
run_checks([
    'connect' => function () use (&$c, $E) {
        $c = new mysqli($E['MVC_HOST'], $E['MVC_USER'], $E['MVC_PASS'], $E['MVC_DB'], (int)$E['MVC_PORT']);
        q('SELECT 1+1, DATABASE()');
    },
    'plain' => fn() => q('SELECT id, name, region, amount, created FROM items WHERE id <= 40 ORDER BY id'),
    'prepared' => fn() => p('SELECT id, name, amount FROM items WHERE id BETWEEN ? AND ? ORDER BY id', 'ii', 10, 30),
    'rewrite' => fn() => q('SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items GROUP BY region ORDER BY region'),
    'rewrite_prep' => fn() => p('SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items WHERE category = ? GROUP BY category', 's', 'books'),
    'error' => function () use (&$c) {
        try { q('SELECT * FROM no_such_table'); echo "no error\n"; }
        catch (mysqli_sql_exception $e) { echo 'errno ', $e->getCode(), "\n"; }
        q("SELECT 'still'");
    },
    'multi' => function () use (&$c) {
        $c->multi_query("SELECT 1 AS a; SELECT 'two' AS b, 3 AS c");
        $first = true;
        do {
            if ($r = $c->store_result()) {
                if (!$first) echo "--\n";
                $first = false;
                print_rows($r->fetch_all(MYSQLI_NUM));
            }
        } while ($c->more_results() && $c->next_result());
    },
    'big' => function () use (&$c, $ID) {
        $v = big_value();
        $s = $c->prepare('INSERT INTO blobs (id, v) VALUES (?, ?)');
        $null = null;
        $s->bind_param('ib', $ID, $null);
        // send_long_data in chunks (COM_STMT_SEND_LONG_DATA)
        foreach (str_split($v, 1024 * 1024) as $chunk) $s->send_long_data(1, $chunk);
        $s->execute();
        $s->close();
        $got = $c->query("SELECT v FROM blobs WHERE id = $ID")->fetch_row()[0];
        echo 'len ', strlen($got), ' equal ', ($got === $v ? 'yes' : 'no'), "\n";
        q("DELETE FROM blobs WHERE id = $ID");
    },
    'txn' => function () use (&$c, $ID) {
        $c->begin_transaction();
        q("INSERT INTO txn_t (id) VALUES ($ID)");
        q("SELECT COUNT(*) FROM txn_t WHERE id = $ID");
        $c->rollback();
        q("SELECT COUNT(*) FROM txn_t WHERE id = $ID");
    },
    'tls' => function () use ($E) {
        if (empty($E['MVC_TLS_PORT'])) { echo "NA\n"; return; }
        // MYSQLI_CLIENT_SSL: mysqlnd requires TLS; the proxy's cert is self-signed
        $t = mysqli_init();
        $t->ssl_set(null, null, null, null, null);
        $t->real_connect($E['MVC_HOST'], $E['MVC_USER'], $E['MVC_PASS'], $E['MVC_DB'], (int)$E['MVC_TLS_PORT'],
            null, MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT);
        print_rows($t->query("SELECT 'tls'")->fetch_all(MYSQLI_NUM));
        $t->close();
    },
    'change_user' => function () use (&$c, $E) {
        $c->change_user('app', 'app_pw', $E['MVC_DB']);
        q('SELECT CURRENT_USER(), DATABASE()');
        $c->change_user($E['MVC_USER'], $E['MVC_PASS'], $E['MVC_DB']);
        q('SELECT CURRENT_USER()');
    },
    'reset' => function () use (&$c) {
        if (!function_exists('mysqli_reset_connection') && !method_exists($c, 'reset_connection')) {
            echo "NA\n"; return;
        }
        q('SET @v = 42');
        q('SELECT @v');
        $c->reset_connection();
        q('SELECT @v IS NULL, DATABASE()');
    },
]);
