// MariaDB Connector/J (Debian libmariadb-java, 2.7) in the real-client matrix
// (tests/clients/README.md). MVC_MODE=server: useServerPrepStmts=true
// (COM_STMT_PREPARE); MVC_MODE=client: the driver expands ? itself.
// Run as a single-file program: java -cp mariadb-java-client.jar Main.java
import java.sql.*;
import java.util.*;

public class Main {
    static final Map<String, String> E = System.getenv();
    static final long ID = Long.parseLong(E.get("MVC_ID"));
    static Connection c;

    static String url(String port, String extra) {
        return "jdbc:mariadb://" + E.get("MVC_HOST") + ":" + port + "/" + E.get("MVC_DB")
            + "?user=" + E.get("MVC_USER") + "&password=" + E.get("MVC_PASS")
            + "&useServerPrepStmts=" + "server".equals(E.get("MVC_MODE")) + extra;
    }

    static void print(ResultSet rs) throws SQLException {
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            StringBuilder b = new StringBuilder();
            for (int i = 1; i <= n; i++) {
                String v = rs.getString(i);
                b.append(i > 1 ? "\t" : "").append(v == null ? "\\N" : v);
            }
            System.out.println(b);
        }
    }

    static void q(Connection k, String sql) throws SQLException {
        try (Statement s = k.createStatement()) {
            if (s.execute(sql)) print(s.getResultSet());
        }
    }

    static void p(String sql, Object... args) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) s.setObject(i + 1, args[i]);
            if (s.execute()) print(s.getResultSet());
        }
    }

    interface Check { void run() throws Exception; }

    public static void main(String[] a) throws Exception {
        LinkedHashMap<String, Check> checks = new LinkedHashMap<>();
        checks.put("connect", () -> {
            c = DriverManager.getConnection(url(E.get("MVC_PORT"), "&allowMultiQueries=true"));
            q(c, "SELECT 1+1, DATABASE()");
        });
        checks.put("plain", () -> q(c, "SELECT id, name, region, amount, created FROM items WHERE id <= 40 ORDER BY id"));
        checks.put("prepared", () -> p("SELECT id, name, amount FROM items WHERE id BETWEEN ? AND ? ORDER BY id", 10, 30));
        checks.put("rewrite", () -> q(c, "SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items GROUP BY region ORDER BY region"));
        checks.put("rewrite_prep", () -> p("SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items WHERE category = ? GROUP BY category", "books"));
        checks.put("error", () -> {
            try {
                q(c, "SELECT * FROM no_such_table");
                System.out.println("no error");
            } catch (SQLException e) {
                System.out.println("errno " + e.getErrorCode());
            }
            q(c, "SELECT 'still'");
        });
        checks.put("multi", () -> {
            try (Statement s = c.createStatement()) {
                boolean rs = s.execute("SELECT 1 AS a; SELECT 'two' AS b, 3 AS c");
                boolean first = true;
                while (rs || s.getUpdateCount() != -1) {
                    if (rs) {
                        if (!first) System.out.println("--");
                        first = false;
                        print(s.getResultSet());
                    }
                    rs = s.getMoreResults();
                }
            }
        });
        checks.put("big", () -> {
            StringBuilder b = new StringBuilder(20 * 1024 * 1024);
            for (int k = 0; k < 20 * 1024 * 1024 / 8; k++) b.append(String.format("%07d ", k));
            String v = b.toString();
            p("INSERT INTO blobs (id, v) VALUES (?, ?)", ID, v);
            try (PreparedStatement s = c.prepareStatement("SELECT v FROM blobs WHERE id = ?")) {
                s.setLong(1, ID);
                ResultSet rs = s.executeQuery();
                rs.next();
                String got = rs.getString(1);
                System.out.println("len " + got.length() + " equal " + (got.equals(v) ? "yes" : "no"));
            }
            p("DELETE FROM blobs WHERE id = ?", ID);
        });
        checks.put("txn", () -> {
            c.setAutoCommit(false);
            p("INSERT INTO txn_t (id) VALUES (?)", ID);
            p("SELECT COUNT(*) FROM txn_t WHERE id = ?", ID);
            c.rollback();
            c.setAutoCommit(true);
            p("SELECT COUNT(*) FROM txn_t WHERE id = ?", ID);
        });
        checks.put("tls", () -> {
            String port = E.get("MVC_TLS_PORT");
            if (port == null || port.isEmpty()) { System.out.println("NA"); return; }
            // useSsl: TLS required (the driver fails when the server offers none);
            // the proxy's certificate is self-signed
            try (Connection t = DriverManager.getConnection(url(port, "&useSsl=true&trustServerCertificate=true"))) {
                q(t, "SELECT 'tls'");
            }
        });
        // Connector/J 2.7 has no COM_CHANGE_USER API
        checks.put("change_user", () -> System.out.println("NA"));
        checks.put("reset", () -> {
            q(c, "SET @v = 42");
            q(c, "SELECT @v");
            // MariaDbConnection.reset(): COM_RESET_CONNECTION (what its pool uses)
            c.getClass().getMethod("reset").invoke(c);
            q(c, "SELECT @v IS NULL, DATABASE()");
        });
        checks.put("tool", () -> System.out.println("NA"));
        for (Map.Entry<String, Check> k : checks.entrySet()) {
            System.out.println("@@ " + k.getKey());
            try {
                k.getValue().run();
            } catch (Throwable e) {
                Throwable r = e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e;
                String m = String.valueOf(r.getMessage());
                System.out.println("EXC " + r.getClass().getSimpleName() + ": " + m.substring(0, Math.min(300, m.length())));
                r.printStackTrace();
                if (k.getKey().equals("connect")) System.exit(1);
            }
            System.out.flush();
        }
        c.close();
    }
}
