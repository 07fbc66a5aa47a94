"""[engine] pin_cpu: which CPU an engine process takes, and that every one
of its threads runs there. Pinning runs in child processes, so that this
test process keeps its CPUs."""

import json
import os
import subprocess
import sys
import textwrap
from unittest import mock
import uuid

from notifier.engine import affinity
from notifier import service
from notifier.tests import base

# Run in a child: restricted to the CPUs given on its command line (as
# taskset would start it), with a thread started before the pin and one
# after, it prints the CPU it took and the CPUs each thread may run on.
CHILD = textwrap.dedent('''
    import json, os, sys, threading
    from notifier.engine import affinity
    os.sched_setaffinity(0, json.loads(sys.argv[2]))
    stop = threading.Event()
    before = threading.Thread(target=stop.wait)
    before.start()
    cpu, holder = affinity.pin(namespace=sys.argv[1])
    after = threading.Thread(target=stop.wait)
    after.start()
    threads = {t: sorted(os.sched_getaffinity(int(t)))
               for t in os.listdir('/proc/self/task')}
    print(json.dumps({'cpu': cpu, 'threads': threads}))
    stop.set()
''')


class TestTake(base.TestCase):
    """The choice of a CPU among engines, in this process (no pinning)."""

    def setUp(self):
        super().setUp()
        self.namespace = 'notifier-test-%s' % uuid.uuid4().hex

    def take(self, cpus):
        cpu, holder = affinity._take(self.namespace, cpus)
        if holder is not None:
            self.addCleanup(holder.close)
        return cpu, holder

    def test_each_engine_takes_a_free_cpu_then_a_second_round_begins(self):
        self.assertEqual([5, 7, 5, 7], [self.take([5, 7])[0]
                                        for _ in range(4)])

    def test_the_cpu_of_an_engine_that_ended_is_taken_again(self):
        _, first = self.take([5, 7])
        self.take([5, 7])
        self.take([5, 7])  # the second round's 5
        first.close()
        self.assertEqual(5, self.take([5, 7])[0])
        self.assertEqual(7, self.take([5, 7])[0])

    def test_no_cpu_once_every_round_is_held(self):
        with mock.patch.object(affinity, 'MAX_ROUNDS', 2):
            for _ in range(4):
                self.assertIsNotNone(self.take([5, 7])[0])
            self.assertEqual((None, None), self.take([5, 7]))


class TestPin(base.TestCase):

    def setUp(self):
        super().setUp()
        reason = affinity.available()
        if reason is not None:
            self.skipTest(reason)
        self.cpus = sorted(os.sched_getaffinity(0))[:2]
        self.namespace = 'notifier-test-%s' % uuid.uuid4().hex

    def child(self, cpus):
        out = subprocess.run(
            [sys.executable, '-c', CHILD, self.namespace, json.dumps(cpus)],
            capture_output=True, text=True, timeout=60, check=True)
        return json.loads(out.stdout.splitlines()[-1]), out.stderr

    def test_every_thread_runs_on_the_cpu_taken(self):
        found, _ = self.child(self.cpus)
        self.assertEqual(self.cpus[0], found['cpu'])
        self.assertEqual(3, len(found['threads']))
        self.assertEqual({(self.cpus[0],)},
                         {tuple(c) for c in found['threads'].values()})

    def test_a_process_on_one_cpu_is_left_as_it_is(self):
        found, log = self.child(self.cpus[1:])
        self.assertIsNone(found['cpu'])
        self.assertEqual({(self.cpus[1],)},
                         {tuple(c) for c in found['threads'].values()})
        self.assertIn('may run on one CPU only', log)


class TestEngineService(base.TestCase):
    """notifier-engine pins itself before its threads start, if asked."""

    def start_and_stop(self):
        engine = service.Engine(self.conf, periodic=False)
        with mock.patch.object(service, 'manager'), \
                mock.patch.object(service.rpc, 'get_server'):
            engine.start()
            engine.stop()

    def test_pinned_when_asked_and_the_cpu_left_when_stopped(self):
        self.flags(pin_cpu=True, group='engine')
        holder = mock.Mock()
        with mock.patch.object(affinity, 'pin',
                               return_value=(1, holder)) as pin:
            self.start_and_stop()
        pin.assert_called_once_with()
        holder.close.assert_called_once_with()

    def test_not_pinned_by_default(self):
        with mock.patch.object(affinity, 'pin') as pin:
            self.start_and_stop()
        pin.assert_not_called()
