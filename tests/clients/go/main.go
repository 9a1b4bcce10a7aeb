// Go database/sql + go-sql-driver/mysql (Debian, 1.5) in the real-client
// matrix (tests/clients/README.md). MVC_MODE=server: a query with arguments
// is a server-side prepared statement (COM_STMT_PREPARE/EXECUTE/CLOSE);
// MVC_MODE=interpolate: interpolateParams=true, the driver expands ? itself.
// The driver has no COM_CHANGE_USER or COM_RESET_CONNECTION call:
// change_user and reset are n/a. Every check runs on one *sql.Conn.
// Build: GOPATH=/usr/share/gocode GO111MODULE=off go build main.go
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-sql-driver/mysql"
)

var (
	ctx  = context.Background()
	conn *sql.Conn
	id   = os.Getenv("MVC_ID")
)

// dsn: multiStatements for the multi check; a max_allowed_packet above the
// 20 MiB of the big check (the driver's default is 4 MiB).
func dsn(port, extra string) string {
	interp := os.Getenv("MVC_MODE") == "interpolate"
	return fmt.Sprintf("%s:%s@tcp(%s:%s)/%s?multiStatements=true&maxAllowedPacket=67108864&interpolateParams=%t%s",
		os.Getenv("MVC_USER"), os.Getenv("MVC_PASS"), os.Getenv("MVC_HOST"), port,
		os.Getenv("MVC_DB"), interp, extra)
}

func open(port, extra string) (*sql.Conn, error) {
	db, err := sql.Open("mysql", dsn(port, extra))
	if err != nil {
		return nil, err
	}
	return db.Conn(ctx)
}

type querier interface {
	QueryContext(context.Context, string, ...interface{}) (*sql.Rows, error)
}

// printRows prints the rows of the current result set: fields as the bytes
// the driver gives (sql.RawBytes), NULL as \N.
func printRows(rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]interface{}, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		out := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				out[i] = `\N`
			} else {
				out[i] = string(v)
			}
		}
		fmt.Println(strings.Join(out, "\t"))
	}
	return rows.Err()
}

// q runs SQL (with ARGS: prepared or interpolated as the mode says; without:
// a text query) and prints every row of every result set, "--" between sets.
func q(k querier, sql string, args ...interface{}) error {
	rows, err := k.QueryContext(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for first := true; ; first = false {
		if !first {
			fmt.Println("--")
		}
		if err := printRows(rows); err != nil {
			return err
		}
		if !rows.NextResultSet() {
			return rows.Err()
		}
	}
}

func bigValue() string {
	var b strings.Builder
	b.Grow(20 << 20)
	for k := 0; k < (20<<20)/8; k++ {
		fmt.Fprintf(&b, "%07d ", k)
	}
	return b.String()
}

var checks = []struct {
	name string
	run  func() error
}{
	{"connect", func() (err error) {
		if conn, err = open(os.Getenv("MVC_PORT"), ""); err != nil {
			return err
		}
		return q(conn, "SELECT 1+1, DATABASE()")
	}},
	{"plain", func() error {
		return q(conn, "SELECT id, name, region, amount, created FROM items WHERE id <= 40 ORDER BY id")
	}},
	{"prepared", func() error {
		return q(conn, "SELECT id, name, amount FROM items WHERE id BETWEEN ? AND ? ORDER BY id", 10, 30)
	}},
	{"rewrite", func() error {
		return q(conn, "SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items GROUP BY region ORDER BY region")
	}},
	{"rewrite_prep", func() error {
		return q(conn, "SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items WHERE category = ? GROUP BY category", "books")
	}},
	{"error", func() error {
		var me *mysql.MySQLError
		if err := q(conn, "SELECT * FROM no_such_table"); err == nil {
			fmt.Println("no error")
		} else if errors.As(err, &me) {
			fmt.Printf("errno %d\n", me.Number)
		} else {
			return err
		}
		return q(conn, "SELECT 'still'")
	}},
	{"multi", func() error {
		// multiStatements=true: both statements in one COM_QUERY
		return q(conn, "SELECT 1 AS a; SELECT 'two' AS b, 3 AS c")
	}},
	{"big", func() error {
		v := bigValue()
		if _, err := conn.ExecContext(ctx, "INSERT INTO blobs (id, v) VALUES (?, ?)", id, v); err != nil {
			return err
		}
		var got string
		if err := conn.QueryRowContext(ctx, "SELECT v FROM blobs WHERE id = ?", id).Scan(&got); err != nil {
			return err
		}
		eq := "no"
		if got == v {
			eq = "yes"
		}
		fmt.Printf("len %d equal %s\n", len(got), eq)
		_, err := conn.ExecContext(ctx, "DELETE FROM blobs WHERE id = ?", id)
		return err
	}},
	{"txn", func() error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO txn_t (id) VALUES (?)", id); err != nil {
			return err
		}
		if err := q(tx, "SELECT COUNT(*) FROM txn_t WHERE id = ?", id); err != nil {
			return err
		}
		if err := tx.Rollback(); err != nil {
			return err
		}
		return q(conn, "SELECT COUNT(*) FROM txn_t WHERE id = ?", id)
	}},
	{"tls", func() error {
		port := os.Getenv("MVC_TLS_PORT")
		if port == "" {
			fmt.Println("NA")
			return nil
		}
		// tls=skip-verify: TLS required (the driver fails when the server
		// offers none), the proxy's self-signed certificate not checked
		t, err := open(port, "&tls=skip-verify")
		if err != nil {
			return err
		}
		defer t.Close()
		return q(t, "SELECT 'tls'")
	}},
	{"change_user", func() error { fmt.Println("NA"); return nil }},
	{"reset", func() error { fmt.Println("NA"); return nil }},
	{"tool", func() error { fmt.Println("NA"); return nil }},
}

func main() {
	for _, c := range checks {
		fmt.Println("@@ " + c.name)
		if err := c.run(); err != nil {
			m := err.Error()
			if len(m) > 300 {
				m = m[:300]
			}
			fmt.Printf("EXC %T: %s\n", err, m)
			fmt.Fprintf(os.Stderr, "%s: %v\n", c.name, err)
			if c.name == "connect" {
				os.Exit(1)
			}
		}
	}
	conn.Close()
}
