#!/usr/bin/env python3
"""Profile GET /v1/notifications?limit=100 in process.

Sets up a deployment as the benchmarks do (a SQLite file or a fresh
MariaDB database), seeds ``--rows`` notifications of the list project as
the list scaling scenario does, loads Notifier's WSGI pipeline in this
process and sends the scenario's three pages (first, sorted on
``generated_time``, after a marker) through it, one request at a time.
Prints the CPU and wall time per page of each kind (medians of
``--rounds`` rounds), then profiles ``--requests`` of one kind
(``--page``) under pyinstrument or cProfile. Bench-only: not part of the
tests.
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import scenarios  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_database_arguments(p, backend='mysql')
    p.add_argument('--rows', type=int, default=10000)
    p.add_argument('--requests', type=int, default=300,
                   help='requests per page kind in each timing round, and '
                        'profiled')
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--page', choices=['first', 'sorted', 'marker'],
                   default='first', help='the page kind to profile')
    p.add_argument('--html', default=None)
    p.add_argument('--no-profile', action='store_true',
                   help='only time the requests')
    p.add_argument('--cprofile', action='store_true',
                   help='cProfile (by function) instead of pyinstrument')
    p.add_argument('--yappi', action='store_true',
                   help='yappi (CPU time, by function) instead of '
                        'pyinstrument (wall time, waits included)')
    p.add_argument('--dump', default=None,
                   help='write the cProfile stats to this file')
    args = p.parse_args(argv)
    stack = harness.Stack(args.backend, log=print,
                          mysql_driver=args.mysql_driver).start()
    try:
        project = '%s%d' % (harness.LIST_PROJECT, args.rows)
        scenarios.seed(stack, args.rows, print, project)
        _, paths = scenarios.list_pages(stack, project)
        os.environ['NOTIFIER_CONFIG_FILES'] = stack.deployment.conf_file
        import webob
        from notifier import service
        conf = service.prepare(argv=[], default_config_files=[
            stack.deployment.conf_file])
        app = service.load_app(conf)
        headers = harness.headers_for(project)

        def one(path):
            req = webob.Request.blank(path)
            req.headers.update(headers)
            resp = req.get_response(app)
            assert resp.status_int == 200, resp.text
            return resp

        for path in paths.values():  # warm-up
            for _ in range(50):
                one(path)
        cpu = {name: [] for name in paths}
        wall = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, path in paths.items():
                w0, c0 = time.perf_counter(), time.process_time()
                for _ in range(args.requests):
                    one(path)
                wall[name].append(
                    (time.perf_counter() - w0) * 1000 / args.requests)
                cpu[name].append(
                    (time.process_time() - c0) * 1000 / args.requests)
        for name in paths:
            print('%-6s page: %.2f ms CPU, %.2f ms wall per request '
                  '(medians of %d rounds of %d; CPU %s)' % (
                      name, statistics.median(cpu[name]),
                      statistics.median(wall[name]), args.rounds,
                      args.requests,
                      ' '.join('%.2f' % c for c in cpu[name])))
        if args.no_profile:
            return
        path = paths[args.page]
        if args.yappi:
            import yappi
            yappi.set_clock_type('cpu')
            yappi.start()
            for _ in range(args.requests):
                one(path)
            yappi.stop()
            stats = yappi.get_func_stats()
            for key in ('ttot', 'tsub'):
                print('--- by %s: ttot tsub (ms per request) ncall '
                      'function' % key)
                for f in list(stats.sort(key))[:60]:
                    print('%8.3f %8.3f %7d  %s %s:%d' % (
                        f.ttot * 1000 / args.requests,
                        f.tsub * 1000 / args.requests, f.ncall, f.name,
                        os.path.basename(f.module), f.lineno))
        elif args.cprofile:
            import cProfile
            import pstats
            cprof = cProfile.Profile()
            cprof.enable()
            for _ in range(args.requests):
                one(path)
            cprof.disable()
            if args.dump:
                cprof.dump_stats(args.dump)
            stats = pstats.Stats(cprof)
            stats.sort_stats('cumulative').print_stats(60)
            stats.sort_stats('tottime').print_stats(30)
        else:
            import pyinstrument
            profiler = pyinstrument.Profiler(interval=0.0005)
            profiler.start()
            for _ in range(args.requests):
                one(path)
            profiler.stop()
            harness.print_profile(profiler, args.html)
    finally:
        stack.stop()


if __name__ == '__main__':
    main()
