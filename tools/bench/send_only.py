#!/usr/bin/env python3
"""Send CloudEvents to the sink with the webhook driver alone.

The reference of the fan-out scenario: what one process of this machine
sends with Notifier's webhook driver (``WebhookDriver.deliver``: the
CloudEvent built and POSTed through urllib3) from as many threads as an
engine has, with no database, no claim and no record of the attempts. An
engine's deliveries/s over this rate is the share of its CPU that is the
send itself; unlike deliveries/s alone, it compares across machines of
different speeds. Run by ``scenarios.fan_out`` in a process of its own
(on a CPU of its own with ``--pin``, as pinned engines are); prints one
JSON object. Bench-only: not part of the tests.
"""

import argparse
import json
import os
import sys
import time

from futurist import waiters
import futurist


def message(i):
    """The ``i``-th message, as the engine makes one of a notification."""
    from notifier.drivers import base
    return base.Message(
        delivery_id='6f1c2a7e-2b1d-4c5e-9f00-%012d' % i,
        subject='s', text='t',
        event_type='org.openstack.notifier.notification.COMPUTE_HOST',
        event={'id': i, 'type': 'COMPUTE_HOST', 'hostname': 'c-1',
               'notification_uuid': 'send-only-%d' % i,
               'generated_time': '2026-11-23T10:00:00.000000',
               'payload': {'event': 'STOPPED'}})


def driver(config_files=()):
    """A webhook driver configured as an engine of ``config_files``."""
    from notifier import conf as notifier_conf
    from notifier.conf import opts
    from notifier.drivers import webhook
    from oslo_log import log as logging
    conf = notifier_conf.CONF
    logging.register_options(conf)
    opts.set_defaults(conf)
    conf([], project='notifier', default_config_files=list(config_files))
    return webhook.WebhookDriver(conf)


def measure(url, count, threads=None, warmup=200, config_files=()):
    """Send ``warmup`` then ``count`` messages to ``url`` from ``threads``
    threads (default: the configuration's ``[engine] delivery_threads``);
    the timed part's sends/s and CPU per send."""
    sender = driver(config_files)
    threads = threads or sender.conf.engine.delivery_threads
    settings = {'url': url}
    pool = futurist.ThreadPoolExecutor(max_workers=threads)
    try:
        def send_all(first, n):
            waiters.wait_for_all([
                pool.submit(sender.deliver, message(i), settings)
                for i in range(first, first + n)])
        send_all(0, warmup)
        w0, c0 = time.monotonic(), time.process_time()
        send_all(warmup, count)
        wall, cpu = time.monotonic() - w0, time.process_time() - c0
    finally:
        pool.shutdown()
        sender.close()
    return {'sends': count, 'threads': threads,
            'sends_per_s': round(count / wall, 1),
            'cpu_ms_per_send': round(cpu * 1000 / count, 3)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--url', required=True)
    p.add_argument('--count', type=int, default=6000)
    p.add_argument('--threads', type=int, default=None,
                   help='sending threads (default: [engine] '
                        'delivery_threads of the configuration)')
    p.add_argument('--warmup', type=int, default=200)
    p.add_argument('--config-file', action='append', default=[])
    p.add_argument('--pin', action='store_true',
                   help='run on one CPU (the first this process may use), '
                        'as a pinned engine does')
    args = p.parse_args(argv)
    if args.pin:  # before any thread starts: they inherit it
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    result = measure(args.url, args.count, args.threads, args.warmup,
                     args.config_file)
    result['pinned'] = args.pin
    result['cpus'] = sorted(os.sched_getaffinity(0))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
