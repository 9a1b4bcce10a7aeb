"""MySQLdb (mysqlclient, on libmariadb) in the real-client matrix
(tests/clients/README.md). Its Connection has change_user(); it has no
reset_connection(), and 1.4.6 cannot require TLS (ssl={...} falls back to
clear text when the server offers none, and it cannot say which it got), so
tls is n/a."""
import os
import sys

import MySQLdb
from MySQLdb.constants import CLIENT

import dbapi_checks

E = os.environ


def connect(port, multi=0, **kw):
    return MySQLdb.connect(host=E["MVC_HOST"], port=port, user=E["MVC_USER"],
                           passwd=E["MVC_PASS"], db=E["MVC_DB"], client_flag=multi, **kw)


def change_user(c, user, password, db):
    c.change_user(user, password, db)


sys.exit(dbapi_checks.run(connect, lambda e: e.args[0], CLIENT.MULTI_STATEMENTS,
                          change_user=change_user, reset=None, tls_connect=None))
