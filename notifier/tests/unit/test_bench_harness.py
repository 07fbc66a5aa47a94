"""The benchmark harness's process accounting (tools/bench/harness.py)."""

import os
import subprocess
import sys
import time

import testtools

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'tools', 'bench'))
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
        self.assertEqual([parent.pid, child], harness.pids_of(parent))

    def test_cpu_meter_counts_the_cpu_of_each_group(self):
        parent, child = self.spawn()
        meter = harness.CpuMeter({'child': [child], 'gone': [2 ** 22 + 1]})
        time.sleep(0.5)  # the child spins for 0.3 s from its start
        result = meter.stop(10)
        self.assertGreater(result['cpu_ms_per_unit']['child'], 0)
        self.assertEqual(0, result['cpu_ms_per_unit']['gone'])
        self.assertTrue(0 < result['machine_busy'] <= 1)
