"""A webhook sink on loopback: records when each CloudEvent arrived, keyed
by the notification's uuid (the event's data) and the path it was sent
to (one path per destination)."""

import http.server
import json
import threading
import time


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as the engine's session

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length)
        now = time.monotonic()
        uuid = None
        try:
            uuid = json.loads(body)['data'].get('notification_uuid')
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
        self.server.sink.record(uuid, self.path, now)
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


class Sink:
    def __init__(self):
        self._lock = threading.Lock()
        self.arrivals = []  # (uuid, path, monotonic time)
        self.server = _Server(('127.0.0.1', 0), _Handler)
        self.server.sink = self
        self.port = self.server.server_address[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={'poll_interval': 0.2},
                                        daemon=True)
        self._thread.start()

    def record(self, uuid, path, when):
        with self._lock:
            self.arrivals.append((uuid, path, when))

    def count(self):
        with self._lock:
            return len(self.arrivals)

    def snapshot(self):
        with self._lock:
            return list(self.arrivals)

    def reset(self):
        with self._lock:
            self.arrivals = []

    def close(self):
        self.server.shutdown()
        self.server.server_close()
