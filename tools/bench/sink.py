"""A webhook sink on loopback: records when each CloudEvent arrived, keyed
by the notification's uuid (the event's data) and the path it was sent
to (one path per destination)."""

import asyncio
import http.client
import json
import os
import subprocess
import sys
import threading
import time


class _Receiver(asyncio.Protocol):
    """One connection: HTTP/1.1 requests with a Content-Length body (what
    urllib3 and http.client send), kept alive. A minimal parser on the
    event loop's one thread: the sink shares the machine's cores with what
    it measures, and http.server's thread per connection cost three times
    the CPU per request (0.18 ms with the 64 connections of an engine)."""

    def __init__(self, sink):
        self.sink = sink
        self.buffer = b''
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        while True:
            head_end = self.buffer.find(b'\r\n\r\n')
            if head_end < 0:
                return
            lines = self.buffer[:head_end].decode('latin-1').split('\r\n')
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(':')
                if name.strip().lower() == 'content-length':
                    length = int(value)
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            body = self.buffer[head_end + 4:end]
            self.buffer = self.buffer[end:]
            method, path = lines[0].split(' ', 2)[:2]
            self.transport.write(self.answer(method, path, body))

    def answer(self, method, path, body):
        if method == 'GET':
            # /_arrivals?since=N: the arrivals from the N-th on.
            since = int(path.partition('since=')[2] or 0)
            data = json.dumps(self.sink.since(since)).encode()
            return b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s' % (
                len(data), data)
        now = time.monotonic()
        uuid = None
        try:
            uuid = json.loads(body)['data'].get('notification_uuid')
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
        self.sink.record(uuid, path, now)
        return b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'


class Sink:
    def __init__(self):
        self.pid = os.getpid()  # shared with whoever started it
        self._lock = threading.Lock()
        self.arrivals = []  # (uuid, path, monotonic time)
        self._loop = asyncio.new_event_loop()
        self.server = self._loop.run_until_complete(self._loop.create_server(
            lambda: _Receiver(self), '127.0.0.1', 0, backlog=128))
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        daemon=True)
        self._thread.start()

    def record(self, uuid, path, when):
        with self._lock:
            self.arrivals.append((uuid, path, when))

    def since(self, first):
        """The arrivals from the ``first``-th on: a poll that reads only
        what is new costs the same whatever came before."""
        with self._lock:
            return self.arrivals[first:]

    def close(self):
        self._loop.call_soon_threadsafe(self.server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


class ProcessSink:
    """The same sink in a process of its own, so that the load generator
    and the benchmark's own work do not slow the receiver down (its
    arrival times use the system-wide monotonic clock)."""

    def __init__(self):
        self._proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__)],
            stdout=subprocess.PIPE, text=True)
        self.pid = self._proc.pid
        self.port = int(self._proc.stdout.readline())
        self.url = 'http://127.0.0.1:%d' % self.port
        self._seen = []
        self._conn = None

    def since(self, first):
        for attempt in (1, 2):
            try:
                if self._conn is None:
                    self._conn = http.client.HTTPConnection(
                        '127.0.0.1', self.port, timeout=60)
                self._conn.request('GET', '/_arrivals?since=%d' %
                                   len(self._seen))
                resp = self._conn.getresponse()
                self._seen.extend(tuple(a) for a in json.loads(resp.read()))
                return self._seen[first:]
            except (http.client.HTTPException, OSError):
                self._conn = None
                if attempt == 2:
                    raise

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
