"""The baseline: a WSGI app that reads the request body and answers 202
with a small JSON document. Served by the same gunicorn, with the same
worker and thread counts, as Notifier's API, so that the ratio of the two
says what Notifier itself costs per request."""

BODY = b'{"notification": {"status": "new"}}'


def application(environ, start_response):
    length = int(environ.get('CONTENT_LENGTH') or 0)
    if length:
        environ['wsgi.input'].read(length)
    start_response('202 Accepted', [('Content-Type', 'application/json'),
                                    ('Content-Length', str(len(BODY)))])
    return [BODY]
