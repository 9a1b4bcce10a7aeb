// node mysql2 (npm, installed by scripts/deps-clients.sh into .run/clients-node)
// in the real-client matrix (tests/clients/README.md): query() for text,
// execute() for server-side prepared statements, changeUser(), reset().
'use strict';
const mysql = require('mysql2/promise');

const E = process.env;
const ID = Number(E.MVC_ID);
const CHECKS = ['connect', 'plain', 'prepared', 'rewrite', 'rewrite_prep', 'error', 'multi',
  'big', 'txn', 'tls', 'change_user', 'reset', 'tool'];
let c;

const fmt = (v) => (v === null ? '\\N' : Buffer.isBuffer(v) ? v.toString() : String(v));
function print(rows) {
  for (const r of rows) console.log(r.map(fmt).join('\t'));
}
async function q(sql, args) {
  const [rows] = await c.query({ sql, rowsAsArray: true, values: args });
  if (Array.isArray(rows)) print(rows);
}
async function x(sql, args) {
  const [rows] = await c.execute({ sql, rowsAsArray: true }, args);
  if (Array.isArray(rows)) print(rows);
}
function connect(port, extra) {
  return mysql.createConnection(Object.assign({
    host: E.MVC_HOST, port: Number(port), user: E.MVC_USER, password: E.MVC_PASS,
    database: E.MVC_DB, multipleStatements: true, dateStrings: true, supportBigNumbers: true,
    bigNumberStrings: true, decimalNumbers: false,
  }, extra || {}));
}

const checks = {
  connect: async () => { c = await connect(E.MVC_PORT); await q('SELECT 1+1, DATABASE()'); },
  plain: () => q('SELECT id, name, region, amount, created FROM items WHERE id <= 40 ORDER BY id'),
  prepared: () => x('SELECT id, name, amount FROM items WHERE id BETWEEN ? AND ? ORDER BY id', [10, 30]),
  rewrite: () => q('SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items GROUP BY region ORDER BY region'),
  rewrite_prep: () => x('SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items WHERE category = ? GROUP BY category', ['books']),
  error: async () => {
    try {
      await q('SELECT * FROM no_such_table');
      console.log('no error');
    } catch (e) {
      console.log('errno ' + e.errno);
    }
    await q("SELECT 'still'");
  },
  multi: async () => {
    const [sets] = await c.query({ sql: "SELECT 1 AS a; SELECT 'two' AS b, 3 AS c", rowsAsArray: true });
    sets.forEach((rows, i) => { if (i) console.log('--'); print(rows); });
  },
  big: async () => {
    const parts = [];
    for (let k = 0; k < 20 * 1024 * 1024 / 8; k++) parts.push(String(k).padStart(7, '0') + ' ');
    const v = parts.join('');
    await x('INSERT INTO blobs (id, v) VALUES (?, ?)', [ID, v]);
    const [rows] = await c.execute('SELECT v FROM blobs WHERE id = ?', [ID]);
    const got = fmt(rows[0].v);
    console.log('len ' + got.length + ' equal ' + (got === v ? 'yes' : 'no'));
    await x('DELETE FROM blobs WHERE id = ?', [ID]);
  },
  txn: async () => {
    await c.beginTransaction();
    await x('INSERT INTO txn_t (id) VALUES (?)', [ID]);
    await x('SELECT COUNT(*) FROM txn_t WHERE id = ?', [ID]);
    await c.rollback();
    await x('SELECT COUNT(*) FROM txn_t WHERE id = ?', [ID]);
  },
  tls: async () => {
    if (!E.MVC_TLS_PORT) { console.log('NA'); return; }
    // ssl: TLS required (mysql2 fails when the server offers none); self-signed cert
    const t = await connect(E.MVC_TLS_PORT, { ssl: { rejectUnauthorized: false } });
    const [rows] = await t.query({ sql: "SELECT 'tls'", rowsAsArray: true });
    print(rows);
    await t.end();
  },
  change_user: async () => {
    await c.changeUser({ user: 'app', password: 'app_pw', database: E.MVC_DB });
    await q('SELECT CURRENT_USER(), DATABASE()');
    // mysql2 takes an empty password as "keep the current one" (options.password ||
    // config.password, and config now holds app_pw): clear it first
    c.connection.config.password = E.MVC_PASS;
    await c.changeUser({ user: E.MVC_USER, password: E.MVC_PASS, database: E.MVC_DB });
    await q('SELECT CURRENT_USER()');
  },
  reset: async () => {
    await q('SET @v = 42');
    await q('SELECT @v');
    await c.reset();
    await q('SELECT @v IS NULL, DATABASE()');
  },
  tool: async () => console.log('NA'),
};

(async () => {
  for (const name of CHECKS) {
    console.log('@@ ' + name);
    try {
      await checks[name]();
    } catch (e) {
      console.log('EXC ' + (e.code || e.name) + ': ' + String(e.message).slice(0, 300));
      console.error(e);
      if (name === 'connect') process.exit(1);
    }
  }
  await c.end();
})();
