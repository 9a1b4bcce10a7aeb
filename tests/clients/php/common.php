<?php
// Shared by mysqli.php and pdo.php (the real-client matrix, tests/clients/README.md).
$E = getenv();
$ID = (int)$E['MVC_ID'];
const CHECKS = ['connect', 'plain', 'prepared', 'rewrite', 'rewrite_prep', 'error', 'multi',
    'big', 'txn', 'tls', 'change_user', 'reset', 'tool'];

function fmt($v) { return $v === null ? '\\N' : (string)$v; }
function print_rows($rows) {
    foreach ($rows as $r) echo implode("\t", array_map('fmt', $r)), "\n";
}
function big_value() {
    $parts = [];
    for ($k = 0; $k < 20 * 1024 * 1024 / 8; $k++) $parts[] = sprintf('%07d ', $k);
    return implode('', $parts);
}
function run_checks(array $checks) {
    foreach (CHECKS as $name) {
        echo "@@ $name\n";
        try {
            if (!isset($checks[$name])) { echo "NA\n"; continue; }
            $checks[$name]();
        } catch (Throwable $e) {
            echo 'EXC ', get_class($e), ': ', substr($e->getMessage(), 0, 300), "\n";
            fwrite(STDERR, (string)$e . "\n");
            if ($name === 'connect') exit(1);
        }
    }
}
