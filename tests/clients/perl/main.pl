#!/usr/bin/perl
# Perl DBI + DBD::MariaDB (Debian libdbd-mariadb-perl) in the real-client
# matrix (tests/clients/README.md). MVC_MODE=server: mariadb_server_prepare=1
# (prepare() is COM_STMT_PREPARE); MVC_MODE=client: the driver expands ?
# itself. DBD::MariaDB has no COM_CHANGE_USER or COM_RESET_CONNECTION call:
# change_user and reset are n/a.
use strict;
use warnings;
use DBI;

my %E = %ENV;
my $ID = int($E{MVC_ID});
my $SERVER = ($E{MVC_MODE} // '') eq 'server' ? 1 : 0;
my @CHECKS = qw(connect plain prepared rewrite rewrite_prep error multi big txn tls
                change_user reset tool);
$| = 1;
my $c;

sub connect_to {
    my ($port, $extra) = @_;
    my $dsn = "DBI:MariaDB:database=$E{MVC_DB};host=$E{MVC_HOST};port=$port"
        . ";mariadb_server_prepare=$SERVER;mariadb_multi_statements=1" . ($extra // '');
    return DBI->connect($dsn, $E{MVC_USER}, $E{MVC_PASS},
                        { RaiseError => 1, PrintError => 0, AutoCommit => 1 });
}

sub fmt { my $v = shift; return defined $v ? $v : '\\N'; }

# Print every row of STH's current result set.
sub rows {
    my $sth = shift;
    while (my $r = $sth->fetchrow_arrayref) { print join("\t", map { fmt($_) } @$r), "\n"; }
}

# Text query: never a server-side prepare, whatever the mode.
sub text {
    my ($sql, $dbh) = @_;
    my $sth = ($dbh // $c)->prepare($sql, { mariadb_server_prepare => 0 });
    $sth->execute;
    rows($sth) if $sth->{NUM_OF_FIELDS};
    return $sth;
}

# Statement with parameters: prepared as the mode says.
sub prep {
    my ($sql, @args) = @_;
    my $sth = $c->prepare($sql);
    $sth->execute(@args);
    rows($sth) if $sth->{NUM_OF_FIELDS};
}

my %checks = (
    connect => sub { $c = connect_to($E{MVC_PORT}); text('SELECT 1+1, DATABASE()'); },
    plain => sub { text('SELECT id, name, region, amount, created FROM items WHERE id <= 40 ORDER BY id'); },
    prepared => sub { prep('SELECT id, name, amount FROM items WHERE id BETWEEN ? AND ? ORDER BY id', 10, 30); },
    rewrite => sub { text('SELECT region, COUNT(*) AS n, SUM(amount) AS total FROM items GROUP BY region ORDER BY region'); },
    rewrite_prep => sub {
        prep('SELECT category, SUM(qty) AS q, COUNT(*) AS n FROM items WHERE category = ? GROUP BY category', 'books');
    },
    error => sub {
        if (eval { text('SELECT * FROM no_such_table'); 1 }) { print "no error\n"; }
        else { print 'errno ', $c->err, "\n"; }
        text("SELECT 'still'");
    },
    multi => sub {
        # mariadb_multi_statements: both statements in one COM_QUERY
        my $sth = $c->prepare("SELECT 1 AS a; SELECT 'two' AS b, 3 AS c", { mariadb_server_prepare => 0 });
        $sth->execute;
        my $first = 1;
        do {
            if ($sth->{NUM_OF_FIELDS}) {
                print "--\n" unless $first;
                $first = 0;
                rows($sth);
            }
        } while ($sth->more_results);
    },
    big => sub {
        my $v = join '', map { sprintf '%07d ', $_ } 0 .. 20 * 1024 * 1024 / 8 - 1;
        prep('INSERT INTO blobs (id, v) VALUES (?, ?)', $ID, $v);
        my $sth = $c->prepare('SELECT v FROM blobs WHERE id = ?');
        $sth->execute($ID);
        my ($got) = $sth->fetchrow_array;
        $sth->finish;
        printf "len %d equal %s\n", length($got), $got eq $v ? 'yes' : 'no';
        prep('DELETE FROM blobs WHERE id = ?', $ID);
    },
    txn => sub {
        $c->begin_work;
        prep('INSERT INTO txn_t (id) VALUES (?)', $ID);
        prep('SELECT COUNT(*) FROM txn_t WHERE id = ?', $ID);
        $c->rollback;
        prep('SELECT COUNT(*) FROM txn_t WHERE id = ?', $ID);
    },
    tls => sub {
        if (!$E{MVC_TLS_PORT}) { print "NA\n"; return; }
        # The proxy's certificate is self-signed, and DBD::MariaDB enforces TLS
        # only together with certificate verification: mariadb_ssl_optional,
        # then require TLS here (the connection's cipher).
        my $t = connect_to($E{MVC_TLS_PORT}, ';mariadb_ssl=1;mariadb_ssl_optional=1');
        die "connected without TLS\n" unless $t->{mariadb_ssl_cipher};
        text("SELECT 'tls'", $t);
        $t->disconnect;
    },
    change_user => sub { print "NA\n"; },
    reset => sub { print "NA\n"; },
    tool => sub { print "NA\n"; },
);

for my $name (@CHECKS) {
    print "@@ $name\n";
    next if eval { $checks{$name}->(); 1 };
    my $m = substr((split /\n/, "$@")[0] // '', 0, 300);
    print "EXC $m\n";
    print STDERR "$name: $@\n";
    exit 1 if $name eq 'connect';
}
$c->disconnect;
