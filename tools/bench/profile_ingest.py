#!/usr/bin/env python3
"""Profile POST /v1/notifications in process (pyinstrument).

Sets up a deployment as the benchmarks do (a SQLite file or a fresh
MariaDB database, the machine's RabbitMQ), loads Notifier's WSGI pipeline
in this process and sends ``--requests`` creates through it, one at a
time, under pyinstrument. Prints the CPU time per request and the profile
(``--html`` to write it as a page). With ``--auth keystone`` the requests
carry a real Keystone token and it also prints the HTTP requests the
process made to Keystone while measuring (with the token cached by
keystonemiddleware: none). Bench-only: not part of the tests.
"""

import argparse
import collections
import json
import os
import sys
import time

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
