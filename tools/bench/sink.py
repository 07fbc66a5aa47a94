"""A webhook sink on loopback: records when each CloudEvent arrived, keyed
by the notification's uuid (the event's data) and the path it was sent
to (one path per destination)."""

import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import time


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as the engine's session

    def do_GET(self):
        """GET /_arrivals?since=N: the arrivals from the N-th on."""
        since = int(self.path.partition('since=')[2] or 0)
        body = json.dumps(self.server.sink.snapshot()[since:]).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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


class ProcessSink:
    """The same sink in a process of its own, so that the load generator
    and the benchmark's own work do not slow the receiver down (its
    arrival times use the system-wide monotonic clock)."""

    def __init__(self):
        self._proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__)],
            stdout=subprocess.PIPE, text=True)
        self.port = int(self._proc.stdout.readline())
        self.url = 'http://127.0.0.1:%d' % self.port
        self._seen = []
        self._conn = None

    def snapshot(self):
        for attempt in (1, 2):
            try:
                if self._conn is None:
                    self._conn = http.client.HTTPConnection(
                        '127.0.0.1', self.port, timeout=60)
                self._conn.request('GET', '/_arrivals?since=%d' %
                                   len(self._seen))
                resp = self._conn.getresponse()
                self._seen.extend(tuple(a) for a in json.loads(resp.read()))
                return list(self._seen)
            except (http.client.HTTPException, OSError):
                self._conn = None
                if attempt == 2:
                    raise

    def count(self):
        return len(self.snapshot())

    def close(self):
        self._proc.terminate()
        self._proc.wait(10)


if __name__ == '__main__':
    sink = Sink()
    print(sink.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
