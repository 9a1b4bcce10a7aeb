"""pymysql in the real-client matrix (tests/clients/README.md)."""
import os
import ssl
import sys

import pymysql
from pymysql.constants import CLIENT

import dbapi_checks

E = os.environ


def connect(port, multi=0, ssl_ctx=None):
    return pymysql.connect(host=E["MVC_HOST"], port=port, user=E["MVC_USER"],
                           password=E["MVC_PASS"], database=E["MVC_DB"], client_flag=multi,
                           max_allowed_packet=64 * 1024 * 1024, ssl=ssl_ctx)


def tls_connect(port):
    # an SSLContext makes pymysql require TLS (no certificate check: self-signed)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = connect(port, 0, ctx)
    # pymysql goes on in clear text when the server offers no TLS: require it here
    if not isinstance(c._sock, ssl.SSLSocket):
        raise RuntimeError("connected without TLS (the server offered none)")
    return c


# pymysql has no COM_CHANGE_USER or COM_RESET_CONNECTION API: n/a.
sys.exit(dbapi_checks.run(connect, lambda e: e.args[0], CLIENT.MULTI_STATEMENTS,
                          change_user=None, reset=None, tls_connect=tls_connect))
