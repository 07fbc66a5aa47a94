"""The benchmark tools (tools/bench): the harness's process accounting,
the suite's table, the bare create and the profiling scripts."""

import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from unittest import mock

import fixtures
import sqlalchemy as sa
import testtools

from notifier.db import models
from notifier.tests.functional import services

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, '..', '..', '..', 'tools', 'bench')
sys.path.insert(0, BENCH)
import harness  # noqa: E402

# A parent that forks its child from a thread other than its main one, as
# the engine's master (cotyledon) does: /proc lists the child under that
# thread, not under the process's main thread.
FORK_FROM_THREAD = '''
import os, sys, threading, time
def fork():
    pid = os.fork()
    if pid == 0:
        end = time.monotonic() + 0.3
        while time.monotonic() < end:  # some CPU for the meter
            pass
        time.sleep(60)
        os._exit(0)
    print(pid, flush=True)
    # Alive, as the master's thread is: once a thread ends, its children
    # move to another thread, and a listing meanwhile could miss them.
    time.sleep(60)
threading.Thread(target=fork).start()
time.sleep(60)
'''


class TestProcesses(testtools.TestCase):

    def spawn(self):
        parent = subprocess.Popen([sys.executable, '-c', FORK_FROM_THREAD],
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(parent.wait)
        self.addCleanup(parent.kill)
        child = int(parent.stdout.readline())
        self.addCleanup(lambda: os.kill(child, 9))
        return parent, child

    def test_pids_of_finds_a_child_forked_from_another_thread(self):
        parent, child = self.spawn()
        self.assertEqual([parent.pid, child], services.pids_of(parent))

    def test_cpu_meter_counts_the_cpu_of_each_group(self):
        parent, child = self.spawn()
        meter = harness.CpuMeter({'child': [child], 'gone': [2 ** 22 + 1]})
        time.sleep(0.5)  # the child spins for 0.3 s from its start
        result = meter.stop(10)
        self.assertGreater(result['cpu_ms_per_unit']['child'], 0)
        self.assertEqual(0, result['cpu_ms_per_unit']['gone'])
        self.assertTrue(0 < result['machine_busy'] <= 1)


class TestEngineEnvironment(testtools.TestCase):
    """``run.py --engine-env``: variables for the engines only, recorded in
    the document, reaching the engines the stack spawns."""

    def test_engine_env_is_parsed_into_the_document(self):
        import run
        args = run.parse_args([
            '--scenarios', 'memory',
            '--engine-env', 'GLIBC_TUNABLES=glibc.malloc.tcache_count=0',
            '--engine-env', 'EMPTY='])
        self.assertEqual({'GLIBC_TUNABLES': 'glibc.malloc.tcache_count=0',
                          'EMPTY': ''}, args.engine_env)

    def test_engine_env_without_a_name_is_refused(self):
        import run
        for bad in ('NOVALUE', '=x'):
            self.assertRaises(SystemExit, run.parse_args,
                              ['--engine-env', bad])

    def test_table_names_the_engine_environment(self):
        import run
        doc = {'median': {}, 'backend': 'sqlite', 'auth': 'noauth2',
               'runs': 1, 'quick': True, 'workers': 2, 'threads': 8,
               'engine_env': {'GLIBC_TUNABLES': 'glibc.malloc.tcache_count=0'}}
        self.assertIn('engine environment: '
                      'GLIBC_TUNABLES=glibc.malloc.tcache_count=0',
                      run.table(doc))

    def test_stack_passes_it_to_the_engines_it_spawns(self):
        spawned = []

        class Deployment:
            engines = []

            def spawn_engine(self, env=None):
                spawned.append(env)
                return object()

            def wait_ready(self, *processes):
                pass

        stack = harness.Stack('sqlite', engine_env={'A': '1'})
        stack.deployment = Deployment()
        self.assertEqual(2, len(stack.start_engines(2)))
        self.assertEqual([{'A': '1'}, {'A': '1'}], spawned)


class TestPinEngines(testtools.TestCase):
    """The engines run with [engine] pin_cpu unless ``--no-pin-engines``;
    the document and the table say which."""

    def test_pinned_by_default_and_not_when_asked(self):
        import run
        self.assertTrue(run.parse_args([]).pin_engines)
        self.assertFalse(run.parse_args(['--no-pin-engines']).pin_engines)

    def test_table_says_where_the_engines_ran(self):
        import run
        doc = {'median': {}, 'backend': 'sqlite', 'auth': 'noauth2',
               'runs': 1, 'quick': True, 'workers': 2, 'threads': 8}
        self.assertNotIn('engines:', run.table(doc))  # an older document
        self.assertIn('engines: a CPU of its own each ([engine] pin_cpu)',
                      run.table(dict(doc, engines_pinned=True)))
        self.assertIn('engines: on the CPUs the system chooses',
                      run.table(dict(doc, engines_pinned=False)))

    def test_stack_sets_the_option_for_its_engines(self):
        for pinned in (True, False):
            stack = harness.Stack('sqlite', log=lambda *a: None,
                                  pin_engines=pinned)
            self.addCleanup(stack.stop)
            with mock.patch.object(services.Deployment, 'db_sync'):
                stack.start()
            with open(stack.deployment.conf_file) as f:
                self.assertIn('pin_cpu = %s' % str(pinned).lower(), f.read())


class TestIngestTable(testtools.TestCase):

    def test_table_shows_where_the_cpu_of_a_request_went(self):
        import run

        def side(rps, api, db):
            return {'throughput_rps': rps, 'p50_ms': 1.0, 'p99_ms': 2.0,
                    'machine_busy': 0.9,
                    'cpu_ms_per_request': {'api': api, 'database': db,
                                           'broker': 0.2, 'loadgen': 0.5}}
        doc = {'backend': 'sqlite', 'auth': 'noauth2', 'runs': 1,
               'quick': True, 'workers': 2, 'threads': 8,
               'median': {'ingest': {'c8': {
                   'notifier': side(287, 4.75, 0.93),
                   'trivial': side(1728, 0.61, 0),
                   'ratio_throughput': 0.166}}}}
        text = run.table(doc)
        self.assertIn('8      api 4.75 / 0.61, database 0.93 / 0, '
                      'broker 0.2 / 0.2, loadgen 0.5 / 0.5; busy 0.9 / 0.9',
                      text)

    def test_table_shows_the_bare_create_beside_the_others(self):
        import run

        def side(rps, api):
            return {'throughput_rps': rps, 'p50_ms': 1.0, 'p99_ms': 2.0,
                    'machine_busy': 0.9,
                    'cpu_ms_per_request': {'api': api, 'database': 0.5,
                                           'broker': 0.1, 'loadgen': 0.3}}
        doc = {'backend': 'mysql', 'auth': 'noauth2', 'runs': 1,
               'quick': True, 'workers': 2, 'threads': 8,
               'median': {'ingest': {'c8': {
                   'notifier': side(530, 2.0), 'bare': side(1895, 0.45),
                   'trivial': side(3824, 0.26),
                   'ratio_throughput': 0.137,
                   'ratio_bare_to_trivial': 0.469,
                   'ratio_to_bare': 0.28}}}}
        text = run.table(doc)
        self.assertRegex(text, r'(?m)^8 +1895 +1\.0 +2\.0 +0\.469 +0\.28$')
        self.assertIn('CPU ms per request (notifier / bare / trivial)', text)
        self.assertIn('8      api 2.0 / 0.45 / 0.26, database 0.5 / 0.5 / '
                      '0.5', text)


class TestBareCreateApp(testtools.TestCase):
    """tools/bench/bare_create_app.py, the ingest scenario's second
    baseline, stores a row in Notifier's own table with one commit."""

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.url = 'sqlite:///%s' % os.path.join(tmp, 'bench.sqlite')
        engine = sa.create_engine(self.url)
        models.Base.metadata.create_all(engine)
        self.engine = engine
        self.addCleanup(engine.dispose)
        self.useFixture(fixtures.EnvironmentVariable(
            'NOTIFIER_BENCH_DATABASE', self.url))
        # The module connects to the database its environment names when
        # it is imported, as a gunicorn worker imports it.
        sys.modules.pop('bare_create_app', None)
        self.addCleanup(sys.modules.pop, 'bare_create_app', None)
        import bare_create_app
        self.app = bare_create_app

    def call(self, method, body=b''):
        got = {}

        def start_response(status, headers):
            got['status'], got['headers'] = status, dict(headers)
        out = b''.join(self.app.application({
            'REQUEST_METHOD': method, 'CONTENT_LENGTH': str(len(body)),
            'wsgi.input': io.BytesIO(body)}, start_response))
        return got['status'], got['headers'], out

    def test_a_create_commits_one_finished_row(self):
        body = json.dumps({'notification': {
            'type': 'PROCESS', 'hostname': 'host-1',
            'generated_time': '2026-12-07T22:00:00',
            'payload': {'event': 'STOPPED', 'process_name': 'p-1'}}})
        status, headers, out = self.call('POST', body.encode())
        self.assertEqual('202 Accepted', status)
        self.assertEqual(str(len(out)), headers['Content-Length'])
        answer = json.loads(out)['notification']
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(
                'SELECT id, notification_uuid, project_id, type, hostname, '
                'status, payload FROM notifications')).all()
        self.assertEqual([(answer['id'], answer['notification_uuid'],
                           'bench-bare', 'PROCESS', 'host-1', 'finished')],
                         [tuple(r[:6]) for r in rows])
        self.assertEqual({'event': 'STOPPED', 'process_name': 'p-1'},
                         json.loads(rows[0][6]))

    def test_a_request_without_a_body_is_the_readiness_probe(self):
        status, _, out = self.call('GET')
        self.assertEqual('200 OK', status)
        self.assertEqual(b'', out)


class TestFanOutTiming(testtools.TestCase):

    def test_only_arrivals_after_the_warm_up_are_timed(self):
        import scenarios
        # Two taken by the periodic task during the warm-up (at 1 and 2),
        # then 11 one every 0.1 s from 10: 10 per second, not diluted by
        # the early ones.
        arrivals = [2.0, 1.0] + [10.0 + k / 10.0 for k in range(11)]
        got, span, rate = scenarios.timed_rate(arrivals, timed_from=5.0)
        self.assertEqual(11, len(got))
        self.assertAlmostEqual(1.0, span)
        self.assertAlmostEqual(10.0, rate)

    def test_fewer_than_two_arrivals_have_no_rate(self):
        import scenarios
        self.assertEqual(([7.0], None, None),
                         scenarios.timed_rate([1.0, 7.0], timed_from=5.0))


class TestArrivals(testtools.TestCase):

    def test_a_poll_reads_only_what_arrived_since_the_last(self):
        import scenarios
        import sink as sink_mod

        class Sink(sink_mod.Sink):
            def __init__(self):  # no server: arrivals are recorded here
                self.arrivals, self.reads = [], []
                self._lock = threading.Lock()

            def since(self, first):
                new = super().since(first)
                self.reads.append(len(new))
                return new

        sink = Sink()
        for k in range(1000):  # an earlier case's arrivals
            sink.record('old-%d' % k, '/fan/other/0', float(k))
        arrivals = scenarios.Arrivals(sink, '/fan/p/', {'a': 1, 'b': 2})
        self.assertEqual(0, arrivals.poll())
        sink.record('a', '/fan/p/0', 2000.0)
        sink.record('a', '/fan/p/1', 2001.0)
        sink.record('x', '/fan/p/0', 2002.0)  # not one of ours
        sink.record('b', '/fan/pq/0', 2003.0)  # another project's path
        self.assertEqual(2, arrivals.poll())
        sink.record('b', '/fan/p/0', 2004.0)
        sink.record('a', '/fan/p/0', 2005.0)  # sent again: counted once
        self.assertEqual([2000.0, 2001.0, 2004.0], arrivals.wait(3, 0))
        self.assertEqual(2000.0, arrivals.first[('a', '/fan/p/0')])
        self.assertEqual([1000, 4, 2], sink.reads)


class TestFanOutScaling(testtools.TestCase):

    def test_scaling_is_each_runs_ratio_of_the_most_engines_to_one(self):
        import run
        import scenarios

        def case(rate):
            return {'expected': 6000, 'delivered': 6000,
                    'deliveries_per_s': rate, 'per_engine': rate}
        runs = [{'engines_1_dests_1': case(r1), 'engines_2_dests_1': case(r2),
                 'engines_1_dests_10': case(1000.0)}
                for r1, r2 in [(800.0, 1200.0), (700.0, 1260.0),
                               (900.0, 1440.0)]]
        for cases in runs:  # no two-engine case with 10: no ratio
            cases.update(scenarios.scaling(cases, (1, 2), (1, 10)))
        self.assertEqual([1.5, 1.8, 1.6],
                         [r['scaling_2_engines_dests_1'] for r in runs])
        self.assertNotIn('scaling_2_engines_dests_10', runs[0])
        median = run.median_of(runs)
        # 1.6, the median of the ratios; the ratio of the medians would be
        # 1,260 / 800 = 1.575.
        self.assertEqual(1.6, median['scaling_2_engines_dests_1'])
        text = run.table({'backend': 'mysql', 'auth': 'noauth2', 'runs': 3,
                          'quick': False, 'workers': 2, 'threads': 8,
                          'median': {'fanout': median}})
        self.assertIn("scaling, the median of the runs' ratios to one "
                      "engine: 2 engines with 1 destination(s) 1.6x", text)


class TestSendOnly(testtools.TestCase):
    """tools/bench/send_only.py, the fan-out's reference: the webhook
    driver alone, sending to a real sink on loopback."""

    def setUp(self):
        super().setUp()
        import sink as sink_mod
        self.sink = sink_mod.Sink()
        self.addCleanup(self.sink.close)

    def send_only(self, *args):
        out = subprocess.run(
            [sys.executable, os.path.join(BENCH, 'send_only.py'),
             '--url', self.sink.url + '/so/0', *args],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(0, out.returncode, out.stderr[-3000:])
        return json.loads(out.stdout.strip().splitlines()[-1])

    def test_every_send_arrives_and_only_the_timed_ones_are_counted(self):
        result = self.send_only('--count', '120', '--warmup', '30',
                                '--threads', '4')
        self.assertEqual(120, result['sends'])
        self.assertEqual(4, result['threads'])
        self.assertGreater(result['sends_per_s'], 0)
        self.assertGreater(result['cpu_ms_per_send'], 0)
        self.assertFalse(result['pinned'])
        arrived = self.sink.since(0)
        self.assertEqual({'/so/0'}, {path for _, path, _ in arrived})
        # Each a CloudEvent of its own notification, warm-up included.
        self.assertEqual({'send-only-%d' % i for i in range(150)},
                         {uuid for uuid, _, _ in arrived})
        self.assertEqual(150, len(arrived))

    def test_threads_default_to_the_engines_delivery_threads(self):
        conf = self.useFixture(fixtures.TempDir()).join('notifier.conf')
        with open(conf, 'w') as f:
            f.write('[engine]\ndelivery_threads = 3\n')
        result = self.send_only('--count', '10', '--warmup', '0',
                                '--config-file', conf)
        self.assertEqual(3, result['threads'])

    def test_pinned_it_runs_on_one_cpu(self):
        if len(os.sched_getaffinity(0)) < 2:
            self.skipTest('one CPU: pinned or not is the same')
        result = self.send_only('--count', '10', '--warmup', '0', '--pin')
        self.assertTrue(result['pinned'])
        self.assertEqual([min(os.sched_getaffinity(0))], result['cpus'])

    def test_one_engines_share_of_it_is_in_the_document_and_table(self):
        import run
        import scenarios

        def case(rate):
            return {'expected': 6000, 'delivered': 6000,
                    'deliveries_per_s': rate, 'per_engine': rate}
        cases = {'engines_1_dests_1': case(400.0),
                 'engines_1_dests_10': case(600.0),
                 'engines_2_dests_1': case(700.0),
                 'send_only': {'sends': 6000, 'threads': 64,
                               'sends_per_s': 1600.0,
                               'cpu_ms_per_send': 0.62, 'pinned': True,
                               'cpus': [0]}}
        cases.update(scenarios.share_of_send_only(cases, 1, (1, 10)))
        self.assertEqual(0.25, cases['share_of_send_only_dests_1'])
        self.assertEqual(0.375, cases['share_of_send_only_dests_10'])
        text = run.table({'backend': 'mysql', 'auth': 'noauth2', 'runs': 1,
                          'quick': False, 'workers': 2, 'threads': 8,
                          'median': {'fanout': run.median_of([cases])}})
        self.assertIn('send only (the webhook driver alone, 64 threads, no '
                      'database, one CPU): 1600.0 sends/s, 0.62 ms CPU per '
                      'send; one engine\'s deliveries/s over it: 1 '
                      'destination(s) 0.25; 10 destination(s) 0.375', text)

    def test_a_failed_run_says_why(self):
        import run
        import scenarios

        class Stack:
            pin_engines = False

            class deployment:
                conf_file = '/nonexistent/notifier.conf'
        e = self.assertRaises(RuntimeError, scenarios.send_only, Stack(),
                              run.Settings(), self.sink)
        self.assertIn('send_only.py exited with', str(e))
        self.assertIn('/nonexistent/notifier.conf', str(e))

    def test_no_reference_no_share(self):
        cases = {'engines_1_dests_1': {'per_engine': 400.0}}
        import scenarios
        self.assertEqual({}, scenarios.share_of_send_only(cases, 1, (1,)))


class TestFanOutCases(testtools.TestCase):
    """run.py --fanout-engines / --fanout-destinations: a fan-out of some
    cases only (one engine with one destination, say)."""

    def test_the_cases_asked_for_are_the_settings(self):
        import run
        args = run.parse_args(['--scenarios', 'fanout',
                               '--fanout-engines', '1',
                               '--fanout-destinations', '1,10'])
        s = run.settings_of(args)
        self.assertEqual((1,), s.fanout_engines)
        self.assertEqual((1, 10), s.fanout_destinations)

    def test_by_default_one_and_two_engines_one_and_ten_destinations(self):
        import run
        s = run.settings_of(run.parse_args(['--scenarios', 'fanout']))
        self.assertEqual((1, 2), s.fanout_engines)
        self.assertEqual((1, 10), s.fanout_destinations)

    def test_what_is_not_a_count_is_refused_with_an_example(self):
        import run
        for value in ('0', 'two', '1,,2', ''):
            err = io.StringIO()
            with mock.patch('sys.stderr', err):
                self.assertRaises(SystemExit, run.parse_args,
                                  ['--fanout-engines', value])
            self.assertIn('--fanout-engines takes numbers of at least 1 '
                          'separated by commas, such as 1,2', err.getvalue())


class TestProfileFanOut(testtools.TestCase):
    """tools/bench/profile_fanout.py runs to its figures: it reads the sink
    of its own process (ProcessSink), which the suite's scenarios do not
    use the same way."""

    def test_a_small_run_on_sqlite_counts_every_delivery(self):
        script = os.path.join(BENCH, 'profile_fanout.py')
        out = subprocess.run(
            [sys.executable, script, '--backend', 'sqlite', '--no-profile',
             '--notifications', '10', '--destinations', '2'],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(0, out.returncode, out.stderr[-3000:])
        # 10 notifications timed and 20 of the warm-up, 2 destinations each
        self.assertIn('20 deliveries (60 arrived incl. warm-up)', out.stdout)

    def test_send_only_prints_the_cpu_per_send(self):
        script = os.path.join(BENCH, 'profile_fanout.py')
        out = subprocess.run([sys.executable, script, '--send-only', '5'],
                             capture_output=True, text=True, timeout=300)
        self.assertEqual(0, out.returncode, out.stderr[-3000:])
        for label in ('plain', 'signed, with a token'):
            self.assertRegex(out.stdout, r'(?m)^%s: \d+ us CPU per send '
                             r'\(rounds: (\d+ ){4}\d+\)$' % label)


class TestProfileIngest(testtools.TestCase):
    """tools/bench/profile_ingest.py --split runs to its figures: the CPU
    per create of each part's round, which no other test runs."""

    def test_split_on_sqlite_prints_what_each_part_costs(self):
        script = os.path.join(BENCH, 'profile_ingest.py')
        out = subprocess.run(
            [sys.executable, script, '--backend', 'sqlite', '--split',
             '--requests', '20'],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(0, out.returncode, out.stderr[-3000:])
        for label in ('the whole create', 'without the cast',
                      '... and the database', '... and the validation'):
            self.assertRegex(
                out.stdout, r'(?m)^%s +\d+\.\d{3} ms CPU per create '
                r'\(median of 3 rounds: ' % re.escape(label))
