"""The second baseline: the least a durable create does. A WSGI app that
parses the request's JSON, inserts its notification into Notifier's own
``notifications`` table (the same columns and indexes) with one statement
through the database driver alone, commits, and answers 202 with the
row's id. No validation, host, duplicate check, cast, ORM or middleware.
Served by the same gunicorn as Notifier's API and the trivial app: the
trivial app says what HTTP costs, this one what HTTP and a committed row
cost, so that the ingest scenario can tell the database's share from
Notifier's own.

``NOTIFIER_BENCH_DATABASE`` is the database's SQLAlchemy URL (MySQL
through mysqlclient or PyMySQL, or an SQLite file). The rows belong to
project :data:`PROJECT` and are ``finished`` at once, so that no engine
of a later scenario picks them up and no list scenario counts them. A
request without a body (the harness's readiness probe) gets 200.
"""

import datetime
import json
import os
import threading
import uuid

PROJECT = 'bench-bare'
STATUS = 'finished'
COLUMNS = ('notification_uuid', 'project_id', 'type', 'hostname',
           'source_host_uuid', 'generated_time', 'payload', 'status',
           'created_at', 'updated_at')

_local = threading.local()


def _connector(url):
    """A function that opens a connection, and the driver's placeholder.
    SQLAlchemy only parses the URL here, never on a request."""
    from sqlalchemy.engine import make_url
    url = make_url(url)
    if url.get_backend_name() == 'sqlite':
        import sqlite3
        path = url.database

        def connect():
            # What Notifier's SQLite engine waits for a lock, at most.
            return sqlite3.connect(path, timeout=30)
        return connect, '?'
    args = url.translate_connect_args(username='user', password='passwd',
                                      database='db')
    args.setdefault('passwd', '')
    if url.get_driver_name() == 'pymysql':
        import pymysql as driver
    else:
        import MySQLdb as driver

    def connect():
        return driver.connect(charset='utf8mb4', **args)
    return connect, '%s'


_connect, _MARK = _connector(os.environ['NOTIFIER_BENCH_DATABASE'])
INSERT = 'INSERT INTO notifications (%s) VALUES (%s)' % (
    ', '.join(COLUMNS), ', '.join([_MARK] * len(COLUMNS)))


def _connection():
    conn = getattr(_local, 'conn', None)
    if conn is None:
        conn = _local.conn = _connect()
    return conn


def application(environ, start_response):
    length = int(environ.get('CONTENT_LENGTH') or 0)
    if not length:
        start_response('200 OK', [('Content-Length', '0')])
        return [b'']
    body = json.loads(environ['wsgi.input'].read(length))['notification']
    now = datetime.datetime.utcnow()
    row_uuid = str(uuid.uuid4())
    conn = _connection()
    cursor = conn.cursor()
    try:
        cursor.execute(INSERT, (
            row_uuid, PROJECT, body['type'], body['hostname'],
            'bench-bare-host', now, json.dumps(body['payload']), STATUS,
            now, now))
        row_id = cursor.lastrowid
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    finally:
        cursor.close()
    out = json.dumps({'notification': {
        'id': row_id, 'notification_uuid': row_uuid,
        'status': STATUS}}).encode()
    start_response('202 Accepted', [('Content-Type', 'application/json'),
                                    ('Content-Length', str(len(out)))])
    return [out]
