#!/usr/bin/env python3
"""Profile POST /v1/notifications in process (pyinstrument).

Sets up a deployment as the benchmarks do (a SQLite file or a fresh
MariaDB database, the machine's RabbitMQ), loads Notifier's WSGI pipeline
in this process and sends ``--requests`` creates through it, one at a
time, under pyinstrument. Prints the CPU time per request and the profile
(``--html`` to write it as a page). With ``--auth keystone`` the requests
carry a real Keystone token and it also prints the HTTP requests the
process made to Keystone while measuring (with the token cached by
keystonemiddleware: none). ``--split`` leaves the cast, the database and
the validation out in turn instead, and prints what each costs.
Bench-only: not part of the tests.
"""

import argparse
import collections
import contextlib
import json
import os
import sys
import time
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
OUTGOING = collections.Counter()

import harness  # noqa: E402
import scenarios  # noqa: E402


def count_outgoing_requests():
    """Count every HTTP request the process sends through requests (what
    keystoneauth, and so keystonemiddleware, uses), by method and path."""
    import requests.adapters
    send = requests.adapters.HTTPAdapter.send

    def counting_send(self, request, *args, **kwargs):
        OUTGOING[(request.method, request.path_url.split('?')[0])] += 1
        return send(self, request, *args, **kwargs)
    requests.adapters.HTTPAdapter.send = counting_send


def split(one, requests, rounds=3):
    """Print the CPU per create of the whole request, then with the cast,
    the database and the validation left out one after another (each
    replaced by nothing, or by a row built in memory), ``rounds`` times
    in turn: the differences are what each part costs."""
    import itertools
    from notifier.api import caster
    from notifier.api.handlers import notifications as handler
    from notifier.db import models

    ids = itertools.count(10 ** 9)

    def stored(ctx, values, **kwargs):
        return models.Notification(
            id=next(ids), notification_uuid=str(next(ids)), status='new',
            created_at=values['generated_time'],
            updated_at=values['generated_time'],
            source_host_uuid='bench-host', **values)

    parts = [('the whole create', None),
             ('without the cast', (caster.Caster, 'put',
                                   lambda self, nid: True)),
             ('... and the database', (handler.db,
                                       'notification_create_on_host',
                                       stored)),
             ('... and the validation', (handler.validation, 'validate',
                                         lambda *a, **kw: None))]
    n = itertools.count(100)
    results = {}
    for _ in range(rounds):
        # Each part stays left out for the parts after it.
        with contextlib.ExitStack() as patched:
            for label, patch in parts:
                if patch:
                    patched.enter_context(mock.patch.object(*patch))
                for _ in range(50):
                    one(next(n))
                c0 = time.process_time()
                for _ in range(requests):
                    one(next(n))
                results.setdefault(label, []).append(
                    (time.process_time() - c0) * 1000 / requests)
    import statistics
    for label, _ in parts:
        print('%-24s %.3f ms CPU per create (median of %d rounds: %s)' % (
            label, statistics.median(results[label]), rounds,
            ', '.join('%.3f' % v for v in results[label])))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_database_arguments(p)
    p.add_argument('--auth', choices=['noauth2', 'keystone'],
                   default='noauth2',
                   help='keystone: a real Keystone token (KEYSTONE_URL), '
                        'validated by keystonemiddleware')
    p.add_argument('--requests', type=int, default=2000)
    p.add_argument('--html', default=None)
    p.add_argument('--no-profile', action='store_true',
                   help='only time the requests')
    p.add_argument('--cprofile', action='store_true',
                   help='cProfile (CPU, by function) instead of pyinstrument')
    p.add_argument('--split', action='store_true',
                   help='no profiler: the CPU per create with its parts '
                        'left out one after another (the cast, then the '
                        'database, then the validation), in alternating '
                        'rounds, to see what each part costs')
    args = p.parse_args(argv)
    stack = harness.Stack(args.backend, log=print, auth=args.auth,
                          mysql_driver=args.mysql_driver).start()
    try:
        os.environ['NOTIFIER_CONFIG_FILES'] = stack.deployment.conf_file
        import webob
        from notifier import service
        conf = service.prepare(argv=[], default_config_files=[
            stack.deployment.conf_file])
        app = service.load_app(conf)
        make = scenarios.notification_request('prof', harness.HEADERS)

        def one(i):
            method, path, body, headers = make(i)
            req = webob.Request.blank(path, method=method,
                                      body=json.dumps(body).encode())
            req.content_type = 'application/json'
            req.headers.update(headers)
            resp = req.get_response(app)
            assert resp.status_int == 202, resp.text

        for i in range(50):  # warm-up
            one(i)
        if args.split:
            split(one, args.requests)
            return
        profiler = cprof = None
        if args.cprofile:
            import cProfile
            cprof = cProfile.Profile()
            cprof.enable()
        elif not args.no_profile:
            import pyinstrument
            profiler = pyinstrument.Profiler(interval=0.001)
            profiler.start()
        if args.auth == 'keystone':
            count_outgoing_requests()
        w0, c0 = time.perf_counter(), time.process_time()
        for i in range(50, 50 + args.requests):
            one(i)
        wall = time.perf_counter() - w0
        cpu = time.process_time() - c0
        if profiler is not None:
            profiler.stop()
        if cprof is not None:
            cprof.disable()
        print('%d creates: %.2f ms wall, %.2f ms CPU per request' % (
            args.requests, wall * 1000 / args.requests,
            cpu * 1000 / args.requests))
        if args.auth == 'keystone':
            print('Keystone requests during them: %s' % (
                ', '.join('%d %s %s' % (n, method, path) for (method, path), n
                          in sorted(OUTGOING.items())) or 'none'))
        if profiler is not None:
            harness.print_profile(profiler, args.html)
        if cprof is not None:
            import pstats
            stats = pstats.Stats(cprof)
            stats.sort_stats('cumulative').print_stats(60)
            stats.sort_stats('tottime').print_stats(30)
    finally:
        stack.stop()


if __name__ == '__main__':
    main()
