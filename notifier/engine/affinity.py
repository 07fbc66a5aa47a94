"""One CPU per engine process: ``[engine] pin_cpu``.

An engine's threads take turns at the interpreter, one at a time. Left to
the operating system, consecutive turns often run on different CPUs, and
every object the threads share (the interpreter's own, the database and
HTTP clients') then moves between the CPUs' caches. On a two-CPU machine,
an engine delivering to one webhook destination per notification spent
1.12 ms of CPU per delivery pinned against 1.58 ms unpinned, and
delivered about 1.3 times as many per second (see the performance
page).

Each engine process of a host takes a CPU of those it may run on (its
affinity when it starts: taskset, or systemd's ``CPUAffinity=``) that no
other engine holds; once every CPU has one, a second round begins. What an
engine holds is a name in Linux's abstract socket namespace, bound while
the process lives and freed by the kernel when it ends: no file to clean
up after a crash, and a restarted engine takes the CPU its predecessor
left. The names are per network namespace (a container has its own).
"""

import os
import socket

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

#: The abstract socket names engines hold: (namespace, round, CPU).
NAME = '\0%s-cpu-round-%d-%d'
#: Most rounds looked at: far more engine processes than one host runs.
MAX_ROUNDS = 64


def _cpus():
    """(the CPUs this process may run on, sorted, or None if it cannot be
    pinned; why not)."""
    if not hasattr(os, 'sched_setaffinity') or \
            not os.path.isdir('/proc/self/task'):
        return None, 'the operating system has no CPU affinity (Linux only)'
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, 'this process may run on one CPU only'
    return cpus, None


def available():
    """Why this system cannot pin a process to a CPU, or None if it can."""
    return _cpus()[1]


def _take(namespace, cpus):
    """Bind the first free name of the first round with one: (CPU, the
    bound socket), or (None, None) if every name is held."""
    for turn in range(MAX_ROUNDS):
        for cpu in cpus:
            holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                holder.bind(NAME % (namespace, turn, cpu))
            except OSError:  # another engine holds it
                holder.close()
                continue
            return cpu, holder
    return None, None


def pin(namespace='notifier-engine'):
    """Pin every thread of this process to one CPU that no other engine
    of this host holds, or that the fewest hold. Returns (CPU, holder):
    keep the holder (a socket) open as long as the process runs on that
    CPU, and close it to let another engine take the CPU. (None, None) if
    the process cannot be pinned; the reason is logged."""
    cpus, reason = _cpus()
    if reason is not None:
        LOG.warning('[engine] pin_cpu is set, but %s: the engine runs on '
                    'the CPUs the operating system chooses.', reason)
        return None, None
    cpu, holder = _take(namespace, cpus)
    if cpu is None:
        LOG.warning('[engine] pin_cpu is set, but %d engine processes of '
                    'this host hold each of its CPUs %s already: this one '
                    'runs on the CPUs the operating system chooses.',
                    MAX_ROUNDS, cpus)
        return None, None
    # Threads started from now on inherit the affinity of the thread that
    # starts them; those already running are each set here.
    for tid in os.listdir('/proc/self/task'):
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except OSError:  # the thread has ended meanwhile
            pass
    LOG.info('Engine process %(pid)d is pinned to CPU %(cpu)d of %(cpus)s '
             '([engine] pin_cpu).',
             {'pid': os.getpid(), 'cpu': cpu, 'cpus': cpus})
    return cpu, holder
