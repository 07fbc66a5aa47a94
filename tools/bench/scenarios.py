"""The scenarios of the benchmark suite. Each takes a started Stack and a
Settings and returns a JSON-able dict for one run."""

import datetime
import functools
import json
import os
import random
import subprocess
import time
import uuid

import sqlalchemy as sa

from notifier.db import models
from notifier.tests.functional import services

import harness
import loadgen


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%S.%f')


def notification_request(tag, headers):
    """make_request(i) for POST /v1/notifications with unique payloads."""
    def make(i):
        return ('POST', '/v1/notifications', {'notification': {
            'type': 'PROCESS', 'hostname': 'bench-host-%d' % (i % 20),
            'generated_time': _now_iso(),
            'payload': {'event': 'STOPPED',
                        'process_name': 'proc-%s-%d' % (tag, i)}}}, headers)
    return make


def _engine(stack):
    return _engine_for(stack.database_url)


# One engine (and its pool) per database, not one per query.
@functools.lru_cache(maxsize=None)
def _engine_for(url):
    return sa.create_engine(url)


def list_pages(stack, project):
    """The project's row count and the list scenario's three pages: the
    first, one sorted on generated_time, one after a marker half way."""
    t = models.Notification.__table__
    with _engine(stack).connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(
            t).where(t.c.project_id == project)).scalar()
        marker = conn.execute(
            sa.select(t.c.notification_uuid).where(
                t.c.project_id == project).order_by(
                t.c.id).offset(total // 2).limit(1)).scalar()
    return total, {
        'first': '/v1/notifications?limit=100',
        'sorted': '/v1/notifications?limit=100&sort_key=generated_time'
                  '&sort_dir=asc',
        'marker': '/v1/notifications?limit=100&marker=%s' % marker,
    }


def engine_shares(stack, project):
    """The share of ``project``'s delivery attempts each engine made,
    largest first."""
    a = models.DeliveryAttempt.__table__
    d = models.Delivery.__table__
    with _engine(stack).connect() as conn:
        counts = [n for _, n in conn.execute(
            sa.select(a.c.engine, sa.func.count())
            .select_from(a.join(d, a.c.delivery_id == d.c.id))
            .where(d.c.project_id == project).group_by(a.c.engine))]
    total = sum(counts)
    return sorted((round(n / total, 3) for n in counts),
                  reverse=True) if total else []


def settle(stack, project=None):
    """Mark what is still 'new' as finished, so that engines started later
    do not spend their time on notifications of an earlier scenario."""
    with _engine(stack).begin() as conn:
        t = models.Notification.__table__
        q = t.update().where(t.c.status == 'new')
        if project:
            q = q.where(t.c.project_id == project)
        conn.execute(q.values(status='finished'))


# 1. ingest

def _ratio(one, other):
    """The ratio of two closed loops' throughputs (None without the
    second)."""
    if not other['throughput_rps']:
        return None
    return round(one['throughput_rps'] / other['throughput_rps'], 4)


def ingest(stack, s, run):
    notifier, trivial = stack.start_apis()
    out = {}
    for conc in s.concurrency:
        row = {}
        targets = [('trivial', trivial), ('bare', stack.bare),
                   ('notifier', notifier)]
        if run % 2:
            targets.reverse()
        for name, proc in targets:
            tag = '%s-%d-%d-%s' % (name, run, conc, uuid.uuid4().hex[:6])
            make = notification_request(tag, harness.HEADERS)
            loadgen.closed_loop(  # warm-up, payloads of its own
                proc.port, notification_request('w' + tag, harness.HEADERS),
                conc, 2.0, 50)
            meter = harness.CpuMeter(dict(
                harness.server_pids(), api=services.pids_of(proc),
                loadgen=[os.getpid()]))
            row[name] = loadgen.closed_loop(
                proc.port, make, conc, s.ingest_duration, s.ingest_max)
            cpu = meter.stop(row[name]['requests'])
            row[name]['cpu_ms_per_request'] = cpu['cpu_ms_per_unit']
            row[name]['machine_busy'] = cpu['machine_busy']
        n, t, b = row['notifier'], row['trivial'], row['bare']
        row['ratio_throughput'] = _ratio(n, t)
        # What a durable create allows (the bare one against the trivial
        # app), and how much of it Notifier reaches.
        row['ratio_bare_to_trivial'] = _ratio(b, t)
        row['ratio_to_bare'] = _ratio(n, b)
        out['c%d' % conc] = row
    settle(stack, harness.PROJECT)
    return out


# 4. list scaling

def seed(stack, rows, log, project):
    """Bulk INSERTs of finished notifications until ``project`` has
    ``rows`` of them."""
    t = models.Notification.__table__
    engine = _engine(stack)
    with engine.connect() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(t).where(
            t.c.project_id == project)).scalar()
    missing = rows - have
    if missing <= 0:
        return have
    t0 = time.monotonic()
    base = datetime.datetime(2026, 1, 1)
    batch = 10000
    done = 0
    rnd = random.Random(42)
    while done < missing:
        if have + done >= batch:
            # Past the first batch, copy rows inside the server, much
            # faster than sending them (a million rows in minutes, not 10).
            done += _double(engine, have + done, missing - done, project)
            log('seeded %d of %d rows' % (done, missing))
            continue
        n = min(batch, missing - done)
        values = []
        for k in range(n):
            i = have + done + k
            ts = base + datetime.timedelta(seconds=i)
            values.append({
                'notification_uuid': str(uuid.uuid4()),
                'project_id': project, 'type': 'COMPUTE_HOST',
                'hostname': 'seed-host-%d' % (i % 500),
                'source_host_uuid': str(uuid.UUID(int=i % 500)),
                'generated_time': base + datetime.timedelta(
                    seconds=rnd.randrange(10 ** 7)),
                'payload': {'event': 'STOPPED', 'host_status': 'UNKNOWN'},
                'status': 'finished', 'request_id': None,
                'created_at': ts, 'updated_at': ts})
        with engine.begin() as conn:
            conn.execute(t.insert(), values)
        done += n
    log('seeded %d rows in %.1fs (%.0f rows/s)' % (
        missing, time.monotonic() - t0,
        missing / (time.monotonic() - t0)))
    return rows


def _double(engine, have, wanted, project):
    """Copy up to ``wanted`` of the list project's rows inside the server,
    with new uuids, later created_at and random generated_time."""
    n = min(have, wanted)
    cols = ('notification_uuid, project_id, type, hostname, '
            'source_host_uuid, generated_time, payload, status, request_id, '
            'created_at, updated_at')
    if engine.dialect.name == 'sqlite':
        def shift(col, secs):
            return ("strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s, '+' || (%s) || "
                    "' seconds') || '.000000'" % (col, secs))
        uuid_sql = 'lower(hex(randomblob(16)))'
        rand_secs = 'abs(random() % 10000000)'
    else:
        def shift(col, secs):
            return 'TIMESTAMPADD(SECOND, %s, %s)' % (secs, col)
        uuid_sql = 'UUID()'
        rand_secs = 'FLOOR(RAND() * 10000000)'
    sql = ('INSERT INTO notifications (%s) SELECT %s, project_id, type, '
           'hostname, source_host_uuid, %s, payload, status, request_id, '
           '%s, %s FROM notifications WHERE project_id = :p ORDER BY id '
           'LIMIT %d' % (cols, uuid_sql,
                         shift("'2026-01-01 00:00:00'", rand_secs),
                         shift('created_at', str(have)),
                         shift('updated_at', str(have)), n))
    with engine.begin() as conn:
        conn.execute(sa.text(sql), {'p': project})
    return n


def list_scaling(stack, s, run, log):
    notifier, trivial = stack.start_apis()
    out = {}
    baseline = loadgen.closed_loop(
        trivial.port, lambda i: ('GET', '/v1/notifications?limit=100', None,
                                 harness.LIST_HEADERS),
        1, s.list_duration, s.list_requests)
    out['trivial'] = baseline
    for rows in s.list_rows:
        t0 = time.monotonic()
        # A project per size, all in one table: the larger one's rows
        # are around the smaller one's.
        project = '%s%d' % (harness.LIST_PROJECT, rows)
        headers = harness.headers_for(project)
        seed(stack, rows, log, project)
        seed_s = time.monotonic() - t0
        total, pages = list_pages(stack, project)
        res = {'rows': total, 'seed_s': round(seed_s, 1)}
        for name, path in pages.items():
            check = loadgen.Client(notifier.port)
            status, body = check.request(
                "GET", path, None, headers)
            check.close()
            got = len(json.loads(body).get('notifications', [])) \
                if status == 200 else None
            r = loadgen.closed_loop(
                notifier.port,
                lambda i, p=path: ('GET', p, None, headers),
                1, s.list_duration, s.list_requests)
            r['items'] = got
            r['ratio_p50_to_trivial'] = round(
                r['p50_ms'] / baseline['p50_ms'], 2) \
                if r['p50_ms'] and baseline['p50_ms'] else None
            res[name] = r
        out['rows_%d' % rows] = res
    return out


# 2. end to end

def _poster(sent):
    def on_response(t0, payload):
        try:
            sent[json.loads(payload)['notification']['notification_uuid']] \
                = t0
        except (ValueError, KeyError):
            pass
    return on_response


def end_to_end(stack, s, run, sink):
    notifier, _ = stack.start_apis()
    # A fresh engine and no cast left from an earlier scenario (ingest's
    # thousands, settled): the figure is the steady state, not a backlog.
    stack.stop_engines()
    stack.purge_casts()
    stack.start_engines(1)
    out = {}
    for rate in s.e2e_rates:
        project = 'e2e%d%d%s' % (rate, run, uuid.uuid4().hex[:6])
        path = '/e2e/%s' % project
        stack.subscribe_webhooks(project, [sink.url + path])
        headers = harness.headers_for(project)
        # Warm-up at the same rate, not measured: the processes open
        # their database connections (50 to 100 ms of CPU each with
        # PyMySQL) and fill their caches on the first requests, which is
        # not the steady state the figure is about.
        loadgen.open_loop(
            notifier.port, notification_request('warm' + project, headers),
            rate, s.e2e_warmup, threads=32)
        time.sleep(1.0)
        sent = {}
        load = loadgen.open_loop(
            notifier.port, notification_request(project, headers), rate,
            s.e2e_duration, threads=32, on_response=_poster(sent))
        arrivals = Arrivals(sink, path, sent)
        arrivals.wait(len(sent), s.drain_timeout, interval=0.2)
        lat = [w - sent[u] for (u, _), w in arrivals.first.items()]
        out['rate_%d' % rate] = {
            'load': load, 'sent': len(sent), 'arrived': len(lat),
            'post_to_sink': loadgen.summary_ms(lat)}
        settle(stack, project)
    stack.stop_engines()
    return out


# 3. fan-out

#: Ids per cast in the fan-out. The API's caster casts together the ids
#: that concurrent creates queued, up to [engine] batch_size (64) a cast;
#: 16 still lets an engine claim them in batches, and gives two engines
#: even shares of a case (13 casts for the 200 notifications of the
#: ten-destination cases, where 64 made 4 and shares of 0.64).
FANOUT_CAST_SIZE = 16


def new_notification_ids(stack, project):
    t = models.Notification.__table__
    with _engine(stack).connect() as conn:
        return list(conn.execute(
            sa.select(t.c.id).where(t.c.project_id == project,
                                    t.c.status == 'new')
            .order_by(t.c.id)).scalars())


def _fanout_project(stack, notifier, sink, name, dests, count, s):
    """A project subscribed to ``dests`` webhooks of the sink, and
    ``count`` notifications posted to it; returns (its path prefix on the
    sink, {notification uuid: posted})."""
    prefix = '/fan/%s/' % name
    stack.subscribe_webhooks(
        name, [sink.url + prefix + str(k) for k in range(dests)])
    sent = {}
    loadgen.closed_loop(notifier.port,
                        notification_request(name, harness.headers_for(name)),
                        4, s.drain_timeout, count, on_response=_poster(sent))
    return prefix, sent


class Arrivals:
    """The arrivals at the sink of these notifications (``sent``, posted
    before the poll that reads them) on paths under ``prefix``, read as
    they come: each poll reads only what arrived since the last one.
    (Copying and filtering every arrival of the run on each poll cost the
    benchmark's process 8 ms at 100,000 arrivals, 20 times a second, on
    the cores the engines were being timed on.) A delivery sent twice
    (a retry) counts once, at its first arrival."""

    def __init__(self, sink, prefix, sent):
        self._sink = sink
        self._prefix = prefix
        self._sent = sent
        self._read = 0
        self.first = {}  # (uuid, path) -> when it first arrived

    def poll(self):
        """Read what arrived since the last poll; the number so far."""
        new = self._sink.since(self._read)
        self._read += len(new)
        for u, p, w in new:
            if p.startswith(self._prefix) and u in self._sent:
                self.first.setdefault((u, p), w)
        return len(self.first)

    def wait(self, expected, timeout, interval=0.05):
        """Poll until ``expected`` have arrived or ``timeout`` seconds have
        passed; the arrival times, in order."""
        deadline = time.monotonic() + timeout
        while self.poll() < expected and time.monotonic() < deadline:
            time.sleep(interval)
        return sorted(self.first.values())


def timed_rate(arrivals, timed_from):
    """Of ``arrivals`` (in order, as :meth:`Arrivals.wait` returns them):
    those at or after ``timed_from``, the seconds from the first of them
    to the last, and the rate over that span (None for fewer than two)."""
    got = [w for w in arrivals if w >= timed_from]
    span = (got[-1] - got[0]) if len(got) > 1 else None
    return got, span, ((len(got) - 1) / span if span else None)


def send_only(stack, s, sink):
    """The fan-out's reference: the webhook driver alone, from as many
    threads as the engines send with (their configuration file's), on a
    CPU of its own when the engines are pinned (see send_only.py)."""
    cmd = [harness.python_executable(),
           os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'send_only.py'),
           '--url', sink.url + '/send-only/0',
           '--count', str(s.fanout_deliveries),
           '--warmup', str(s.fanout_warmup),
           '--config-file', stack.deployment.conf_file]
    if stack.pin_engines:
        cmd.append('--pin')
    out = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=s.drain_timeout)
    if out.returncode:  # the run's error says why, not only the status
        raise RuntimeError('send_only.py exited with %d: %s' % (
            out.returncode, out.stderr.strip()[-2000:]))
    return json.loads(out.stdout.strip().splitlines()[-1])


def fan_out(stack, s, run, sink):
    notifier, _ = stack.start_apis()
    # Before any engine runs: the reference has the machine to itself.
    reference = send_only(stack, s, sink)
    # An engine declares the RPC queue: without it, the first case's casts
    # would be dropped and its backlog taken by the periodic task instead.
    stack.start_engines(1)
    out = {}
    cases = [(engines, dests, False) for engines in s.fanout_engines
             for dests in s.fanout_destinations]
    if max(s.fanout_engines) > 1:
        cases.append((max(s.fanout_engines), max(s.fanout_destinations),
                      True))
    for engines, dests, backlog in cases:
        # Posted while no engine runs, so that the API's pace does not
        # bound the figure. Then the engines start and the ids are cast
        # again, as the API casts them to running engines: the broker
        # hands the casts to the engines in turn. Timed from the first
        # delivery to the last. The backlog case keeps the API's casts
        # queued instead, as after an outage of every engine: the first
        # engine to consume takes all of them (see the performance page).
        stack.stop_engines()
        stack.purge_casts()
        project = 'fan%d%d%d%s' % (engines, dests, run,
                                   uuid.uuid4().hex[:6])
        warm = None
        if not backlog and s.fanout_warmup:
            # The steady state: the engines' database connections, sending
            # threads and HTTP connections exist before the timed part (a
            # case of a few seconds otherwise times their start too). The
            # backlog case times a start after an outage, so it has none.
            warm = _fanout_project(stack, notifier, sink, project + 'w',
                                   dests, max(2, s.fanout_warmup // dests), s)
        prefix, sent = _fanout_project(
            stack, notifier, sink, project, dests,
            max(20, s.fanout_deliveries // dests), s)
        if not backlog:
            stack.purge_casts()
        running = stack.start_engines(engines)
        if warm:
            stack.cast(new_notification_ids(stack, project + 'w'),
                       FANOUT_CAST_SIZE)
            Arrivals(sink, *warm).wait(len(warm[1]) * dests,
                                       s.drain_timeout)
        meter = harness.CpuMeter(dict(
            harness.server_pids(), sink=[sink.pid],
            engines=[p for e in running for p in services.pids_of(e)]))
        timed_from = time.monotonic()
        if not backlog:
            stack.cast(new_notification_ids(stack, project),
                       FANOUT_CAST_SIZE)
        expected = len(sent) * dests
        arrived = Arrivals(sink, prefix, sent).wait(expected,
                                                    s.drain_timeout)
        # From the cast (the backlog: from the engines' start, which begin
        # at once) to the last arrival, give or take a poll. The engines'
        # periodic task may have taken a few during the warm-up (those
        # posted more than [engine] recast_after seconds before): they are
        # delivered, but not timed.
        got, span, rate = timed_rate(arrived, timed_from)
        cpu = meter.stop(len(got))
        out['engines_%d_dests_%d%s' % (
            engines, dests, '_backlog' if backlog else '')] = {
            'notifications': len(sent), 'expected': expected,
            'delivered': len(arrived), 'timed': len(got),
            'window_s': round(span, 2) if span else None,
            'deliveries_per_s': round(rate, 1) if rate else None,
            'per_engine': round(rate / engines, 1) if rate else None,
            'busiest_engine_share': (engine_shares(stack, project) or
                                     [None])[0],
            'cpu_ms_per_delivery': cpu['cpu_ms_per_unit'],
            'machine_busy': cpu['machine_busy']}
        settle(stack, project)
        if warm:
            settle(stack, project + 'w')
    stack.stop_engines()
    out.update(scaling(out, s.fanout_engines, s.fanout_destinations))
    out['send_only'] = reference
    out.update(share_of_send_only(out, min(s.fanout_engines),
                                  s.fanout_destinations))
    return out


def scaling(cases, engines, destinations):
    """How many times one engine's deliveries/s the most engines deliver,
    for each number of destinations, in this run: the median of the runs'
    ratios is steadier than the ratio of the medians."""
    most, one = max(engines), min(engines)
    found = {}
    for dests in destinations:
        many = (cases.get('engines_%d_dests_%d' % (most, dests)) or
                {}).get('deliveries_per_s')
        single = (cases.get('engines_%d_dests_%d' % (one, dests)) or
                  {}).get('deliveries_per_s')
        if most > one and many and single:
            found['scaling_%d_engines_dests_%d' % (most, dests)] = round(
                many / single, 3)
    return found


def share_of_send_only(cases, engines, destinations):
    """One engine's deliveries/s over the send-only reference's sends/s
    of the same run, for each number of destinations."""
    reference = (cases.get('send_only') or {}).get('sends_per_s')
    found = {}
    for dests in destinations:
        rate = (cases.get('engines_%d_dests_%d' % (engines, dests)) or
                {}).get('per_engine')
        if reference and rate:
            found['share_of_send_only_dests_%d' % dests] = round(
                rate / reference, 3)
    return found


# 5. memory

def _rss(process):
    return {str(pid): harness.rss_kib(pid) for pid in services.pids_of(process)}


def memory(stack, s, run, sink):
    """RSS of the API workers and the engine (its worker process) after a
    warm-up that delivers (the engine's delivery threads, connection pools
    and caches start with its first deliveries), then after each
    ``memory_steps``-th of ``memory_notifications``, each step delivered
    before it is measured: growth that levels off is a warm-up, growth
    step after step a leak."""
    notifier, _ = stack.start_apis()
    engine = stack.start_engines(1)[0]
    project = 'mem%d%s' % (run, uuid.uuid4().hex[:6])
    prefix = '/mem/%s' % project
    stack.subscribe_webhooks(project, [sink.url + prefix])
    headers = harness.headers_for(project)
    make = notification_request(project, headers)
    sent = {}
    arrivals = Arrivals(sink, prefix, sent)

    def load(first, count):
        done = loadgen.closed_loop(
            notifier.port, lambda i: make(first + i), 8, s.memory_timeout,
            count, on_response=_poster(sent))
        arrivals.wait(len(sent), s.drain_timeout, interval=0.5)
        return done['requests']

    load(0, s.memory_warmup)
    before = {'api': _rss(notifier), 'engine': _rss(engine)}
    per_step = s.memory_notifications // s.memory_steps
    steps, total = [], 0
    for k in range(s.memory_steps):
        total += load(s.memory_warmup + k * per_step, per_step)
        steps.append({'api': _rss(notifier), 'engine': _rss(engine)})
    after = steps[-1]
    settle(stack, project)
    return {'notifications': total, 'warmup': s.memory_warmup,
            'delivered': arrivals.poll(),
            'before_kib': before, 'after_kib': after, 'steps': steps,
            'step_notifications': per_step,
            'api_worker_growth_kib': _growth(before['api'], after['api']),
            'engine_growth_kib': _growth(before['engine'], after['engine'])}


def _growth(before, after):
    return {pid: (after.get(pid) or 0) - (before.get(pid) or 0)
            for pid in before if before.get(pid) is not None}
