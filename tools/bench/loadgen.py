"""A small, bounded HTTP load generator: threads, each with its own
keep-alive http.client connection. Every loop stops at a deadline and at
a request count, whichever comes first."""

import http.client
import json
import threading
import time


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summary_ms(seconds):
    return {'p50_ms': _ms(percentile(seconds, 50)),
            'p99_ms': _ms(percentile(seconds, 99)),
            'n': len(seconds)}


def _ms(value):
    return None if value is None else round(value * 1000.0, 2)


class Client:
    """One keep-alive connection; reconnects once if the server closed it."""

    def __init__(self, port, host='127.0.0.1', timeout=30):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            hdrs['Content-Type'] = 'application/json'
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                payload = resp.read()
                if resp.getheader('Connection', '').lower() == 'close':
                    self.close()
                return resp.status, payload
            except (http.client.HTTPException, ConnectionError,
                    BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError('unreachable')

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def closed_loop(port, make_request, concurrency, duration, max_requests,
                expect=(200, 202), on_response=None):
    """``concurrency`` threads send back to back until ``duration`` seconds
    or ``max_requests`` in all. ``make_request(i)`` returns (method, path,
    body, headers). Returns throughput and latency figures."""
    lock = threading.Lock()
    state = {'issued': 0}
    latencies, errors = [], []
    start = time.monotonic()
    deadline = start + duration

    def worker():
        client = Client(port)
        mine = []
        try:
            while True:
                with lock:
                    if state['issued'] >= max_requests or \
                            time.monotonic() >= deadline:
                        break
                    i = state['issued']
                    state['issued'] += 1
                method, path, body, headers = make_request(i)
                t0 = time.monotonic()
                try:
                    status, payload = client.request(method, path, body,
                                                     headers)
                except Exception as e:  # counted, not fatal
                    with lock:
                        errors.append(repr(e))
                    continue
                t1 = time.monotonic()
                if status not in expect:
                    with lock:
                        errors.append('HTTP %d: %s' % (status, payload[:200]))
                    continue
                mine.append(t1 - t0)
                if on_response is not None:
                    on_response(t0, payload)
        finally:
            client.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 60)
    elapsed = time.monotonic() - start
    result = {'concurrency': concurrency, 'requests': len(latencies),
              'errors': len(errors), 'elapsed_s': round(elapsed, 3),
              'throughput_rps': round(len(latencies) / elapsed, 1)}
    result.update(summary_ms(latencies))
    if errors:
        result['first_errors'] = errors[:3]
    return result


def open_loop(port, make_request, rate, duration, threads=32,
              on_response=None, expect=(200, 202), grace=5.0):
    """Send at a fixed ``rate`` for ``duration`` seconds (rate*duration
    requests at most), from a pool of ``threads``. A request starts at its
    scheduled time or, if every thread is busy, as soon as one is free:
    the achieved rate is reported. Nothing starts more than ``grace``
    seconds after the end of the schedule: a rate the server cannot
    sustain ends with fewer requests sent (``not_sent``), not with a
    backlog that runs for minutes."""
    total = int(rate * duration)
    lock = threading.Lock()
    state = {'next': 0}
    latencies, errors, lateness = [], [], []
    start = time.monotonic() + 0.05
    hard_deadline = start + duration + grace

    def worker():
        client = Client(port)
        try:
            while True:
                with lock:
                    i = state['next']
                    if i >= total:
                        break
                    state['next'] += 1
                due = start + i / float(rate)
                now = time.monotonic()
                if now > hard_deadline:
                    with lock:
                        state['late'] = state.get('late', 0) + 1
                    continue
                if due > now:
                    time.sleep(due - now)
                method, path, body, headers = make_request(i)
                t0 = time.monotonic()
                try:
                    status, payload = client.request(method, path, body,
                                                     headers)
                except Exception as e:
                    with lock:
                        errors.append(repr(e))
                    continue
                t1 = time.monotonic()
                with lock:
                    lateness.append(max(0.0, t0 - due))
                    if status in expect:
                        latencies.append(t1 - t0)
                    else:
                        errors.append('HTTP %d: %s' % (status, payload[:200]))
                        continue
                if on_response is not None:
                    on_response(t0, payload)
        finally:
            client.close()

    pool = [threading.Thread(target=worker, daemon=True)
            for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(max(1.0, hard_deadline - time.monotonic() + 35))
    elapsed = time.monotonic() - start
    result = {'target_rate': rate, 'scheduled': total,
              'not_sent': state.get('late', 0),
              'sent': len(latencies),
              'errors': len(errors), 'elapsed_s': round(elapsed, 3),
              'achieved_rate': round(len(latencies) / elapsed, 1),
              'post_latency': summary_ms(latencies),
              'start_lateness': summary_ms(lateness)}
    if errors:
        result['first_errors'] = errors[:3]
    return result
