"""Fault injection helpers for the functional tests: a webhook receiver
that counts deliveries by id and fails, hangs or throttles on command, and
a loopback TCP proxy a test can cut and restore to simulate a network or
database outage."""

import collections
import json
import random
import select
import socket
import threading
import time

import fixtures

from notifier.tests.functional.drivers import receivers

# Modes of a CountingReceiver.
OK, DOWN, THROTTLE, HANG, GONE = 'ok', 'down', 'throttle', 'hang', 'gone'


class CountingReceiver(receivers.HTTPReceiver):
    """A webhook receiver that deduplicates by delivery id, as the
    guarantees ask receivers to (doc/source/admin/guarantees.rst).

    The id is the CloudEvents ``id`` of a structured event (the
    ``webhook-id`` header when the request is signed). Every request it
    accepts is an *effect* counted in ``raw`` (id -> times accepted) and
    ``by_notification`` (notification uuid -> delivery ids accepted).

    ``mode`` says what it answers: ``ok`` (200), ``down`` (503), ``throttle``
    (429 with Retry-After: 1), ``hang`` (accepts, then answers only after
    ``hang_for`` seconds, so that the client times out although the effect
    happened: the case that makes the wire at-least-once) or ``gone``
    (410). While ``gate`` (a threading.Event) is set on it and not yet
    set, an accepted request waits for it (at most ``hang_for``) before
    the answer: a send held in flight on command. ``faults`` optionally
    maps modes to a probability applied to each request while the mode is
    ``ok``, with a seeded generator.
    """

    def __init__(self, faults=None, seed=42, hang_for=3.0):
        super().__init__(self._receive)
        self.mode = OK
        self.gate = None
        self.faults = faults or {}
        self.hang_for = hang_for
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.raw = collections.Counter()
        self.by_notification = collections.defaultdict(set)
        self.answers = collections.Counter()

    def _pick(self):
        mode = self.mode
        if mode != OK or not self.faults:
            return mode
        with self._lock:
            roll = self._random.random()
        for fault, chance in self.faults.items():
            if roll < chance:
                return fault
            roll -= chance
        return OK

    def _accept(self, request):
        delivery_id = request.headers.get('webhook-id')
        try:
            event = json.loads(request.body)
        except ValueError:
            event = {}
        delivery_id = delivery_id or event.get('id')
        notification = (event.get('data') or {}).get('notification_uuid')
        with self._lock:
            self.raw[delivery_id] += 1
            self.by_notification[notification].add(delivery_id)

    def _receive(self, request):
        mode = self._pick()
        with self._lock:
            self.answers[mode] += 1
        if mode == DOWN:
            return 503, {}, b'maintenance'
        if mode == THROTTLE:
            return 429, {'Retry-After': '1'}, b'slow down'
        if mode == GONE:
            return 410, {}, b'this hook was removed'
        self._accept(request)
        if mode == HANG:
            time.sleep(self.hang_for)
        if self.gate is not None:
            self.gate.wait(self.hang_for)
        return 200, {}, b''

    def report(self):
        """accepted ids, raw effects and raw duplicates so far."""
        with self._lock:
            effects = sum(self.raw.values())
            return {'distinct_ids': len(self.raw), 'raw_effects': effects,
                    'raw_duplicates': effects - len(self.raw)}


class TCPProxy(fixtures.Fixture):
    """A loopback TCP proxy to ``target_port``: ``cut()`` closes every
    connection and refuses new ones (as a crashed server or a cut network
    would), ``restore()`` accepts again."""

    def __init__(self, target_port, target_host='127.0.0.1'):
        super().__init__()
        self.target = (target_host, target_port)

    def _setUp(self):
        self._lock = threading.Lock()
        self._pairs = []
        self._closing = False
        self._listener = None
        self.port = receivers.free_port()
        self.restore()
        self.addCleanup(self._close)

    def _close(self):
        self._closing = True
        self.cut()

    def restore(self):
        """Listen again on the same port."""
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(('127.0.0.1', self.port))
            listener.listen(128)
            self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,),
                         daemon=True).start()

    def cut(self):
        """Stop listening and reset every open connection."""
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, []
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for pair in pairs:
            for sock in pair:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def _accept_loop(self, listener):
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream),
                             daemon=True).start()

    def _pump(self, client, upstream):
        socks = [client, upstream]
        try:
            while True:
                readable, _w, _x = select.select(socks, [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in socks:
                try:
                    sock.close()
                except OSError:
                    pass
