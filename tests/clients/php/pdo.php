<?php
// PHP PDO (pdo_mysql over mysqlnd) in the real-client matrix
// (tests/clients/README.md). MVC_MODE=native: PDO::ATTR_EMULATE_PREPARES off,
// so prepare() is COM_STMT_PREPARE; MVC_MODE=emulate: PDO expands ? itself
// and sends text queries. PDO has no COM_CHANGE_USER or
// COM_RESET_CONNECTION call: change_user and reset are n/a.
require __DIR__ . '/common.php';
$native = ($E['MVC_MODE'] ?? '') === 'native';
$c = null;

function dsn($port) {
    global $E;
    return "mysql:host={$E['MVC_HOST']};port=$port;dbname={$E['MVC_DB']}";
}
function connect($port, array $extra = []) {
    global $E, $native;
    return new PDO(dsn($port), $E['MVC_USER'], $E['MVC_PASS'], $extra + [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_EMULATE_PREPARES => !$native,
        PDO::MYSQL_ATTR_MULTI_STATEMENTS => true,
    ]);
}
// Text query (COM_QUERY). With emulation off PDO::query() is a server-side
// prepare too, so emulation is on for the call: no placeholders, the SQL goes
// as it is.
function text_query($sql) {
    global $c, $native;
    $c->setAttribute(PDO::ATTR_EMULATE_PREPARES, true);
    try {
        return $c->query($sql);
    } finally {
        $c->setAttribute(PDO::ATTR_EMULATE_PREPARES, !$native);
    }
}
function q($sql) {
    $s = text_query($sql);
    if ($s->columnCount() > 0) print_rows($s->fetchAll(PDO::FETCH_NUM));
}
// Prepared statement with parameters (server-side in native mode).
function p($sql, array $args) {
    global $c;
    $s = $c->prepare($sql);
    $s->execute($args);
    if ($s->columnCount() > 0) print_rows($s->fetchAll(PDO::FETCH_NUM));
}
run_checks([
    'connect' => function () use (&$c, $E) {
        $c = connect($E['MVC_PORT']);
        q('SELECT 1+1, DATABASE()');
    },
    'plain' => fn() => q('SELECT id, name, region, amount, created FROM items WHERE id <= 40 ORDER BY id'),
    'prepared' => fn() => p('SELECT id, name, amount FROM items WHERE id BETWEEN ? AND ? ORDER BY id', [10, 30]),
    'rewrite' => fn() => q('SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items GROUP BY region ORDER BY region'),
    'rewrite_prep' => fn() => p('SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items WHERE category = ? GROUP BY category', ['books']),
    'error' => function () {
        try { q('SELECT * FROM no_such_table'); echo "no error\n"; }
        catch (PDOException $e) { echo 'errno ', $e->errorInfo[1], "\n"; }
        q("SELECT 'still'");
    },
    'multi' => function () {
        // MYSQL_ATTR_MULTI_STATEMENTS: both statements go in one COM_QUERY
        $s = text_query("SELECT 1 AS a; SELECT 'two' AS b, 3 AS c");
        $first = true;
        do {
            if ($s->columnCount() > 0) {
                if (!$first) echo "--\n";
                $first = false;
                print_rows($s->fetchAll(PDO::FETCH_NUM));
            }
        } while ($s->nextRowset());
    },
    'big' => function () use (&$c, $ID) {
        $v = big_value();
        $s = $c->prepare('INSERT INTO blobs (id, v) VALUES (?, ?)');
        $s->bindValue(1, $ID, PDO::PARAM_INT);
        $s->bindValue(2, $v, PDO::PARAM_LOB);
        $s->execute();
        $s = $c->prepare('SELECT v FROM blobs WHERE id = ?');
        $s->execute([$ID]);
        $got = (string)$s->fetchColumn();
        echo 'len ', strlen($got), ' equal ', ($got === $v ? 'yes' : 'no'), "\n";
        p('DELETE FROM blobs WHERE id = ?', [$ID]);
    },
    'txn' => function () use (&$c, $ID) {
        $c->beginTransaction();
        p('INSERT INTO txn_t (id) VALUES (?)', [$ID]);
        p('SELECT COUNT(*) FROM txn_t WHERE id = ?', [$ID]);
        $c->rollBack();
        p('SELECT COUNT(*) FROM txn_t WHERE id = ?', [$ID]);
    },
    'tls' => function () use ($E) {
        if (empty($E['MVC_TLS_PORT'])) { echo "NA\n"; return; }
        // Any SSL attribute makes mysqlnd require TLS (the connect fails when
        // the server offers none); the proxy's certificate is self-signed.
        $t = connect($E['MVC_TLS_PORT'], [
            PDO::MYSQL_ATTR_SSL_CAPATH => '/etc/ssl/certs',
            PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT => false,
        ]);
        print_rows($t->query("SELECT 'tls'")->fetchAll(PDO::FETCH_NUM));
        $t = null;
    },
    // change_user, reset: no PDO call (n/a); tool: n/a
]);
