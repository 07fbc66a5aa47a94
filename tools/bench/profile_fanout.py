#!/usr/bin/env python3
"""Profile an engine's fan-out in process (pyinstrument).

Sets up a deployment as the benchmarks do (a SQLite file or a fresh
MariaDB database), starts the webhook sink in a process of its own,
creates ``--destinations`` webhook destinations to it and
``--notifications`` notifications through Notifier's WSGI pipeline loaded
in this process, then has an :class:`EngineManager` in this process
deliver them, queued by ``--concurrency`` threads as the RPC server's
executor does. Prints deliveries per second, the CPU per
delivery and the profile. Bench-only: not part of the tests.
"""

import argparse
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import scenarios  # noqa: E402
import sink as sink_mod  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_database_arguments(p)
    p.add_argument('--notifications', type=int, default=200)
    p.add_argument('--destinations', type=int, default=10)
    p.add_argument('--concurrency', type=int, default=8)
    p.add_argument('--delivery-threads', type=int, default=None,
                   help='[engine] delivery_threads of the engine (default: '
                        'the option\'s default)')
    p.add_argument('--one-by-one', action='store_true',
                   help='EngineManager.process per notification instead '
                        'of the batches of the RPC path')
    p.add_argument('--statements', action='store_true',
                   help='count the SQL statements of the timed part, by '
                        'their first words')
    p.add_argument('--html', default=None)
    p.add_argument('--no-profile', action='store_true',
                   help='only time the deliveries')
    p.add_argument('--yappi', action='store_true',
                   help='yappi (CPU time of every thread, by function) '
                        'instead of pyinstrument (the main thread only)')
    p.add_argument('--send-only', type=int, default=0, metavar='N',
                   help='no engine: time N sends of the webhook driver to '
                        'the sink, one at a time, and print the CPU per '
                        'send (medians of 5 rounds)')
    args = p.parse_args(argv)
    if args.send_only:
        return send_only(args.send_only)
    stack = harness.Stack(args.backend, log=print,
                          mysql_driver=args.mysql_driver).start()
    sink = sink_mod.ProcessSink()
    try:
        os.environ['NOTIFIER_CONFIG_FILES'] = stack.deployment.conf_file
        import webob
        from futurist import waiters
        import futurist
        from oslo_db.sqlalchemy import enginefacade
        from sqlalchemy import event as sa_event
        from sqlalchemy import select
        from notifier import service
        from notifier.db import api as db_api
        from notifier import context as notifier_context
        from notifier.db import models
        from notifier.engine import manager
        conf = service.prepare(argv=[], default_config_files=[
            stack.deployment.conf_file])
        app = service.load_app(conf)
        if args.delivery_threads:
            conf.set_override('delivery_threads', args.delivery_threads,
                              group='engine')
        project = 'proffan'
        headers = harness.headers_for(project)

        def call(method, path, body):
            req = webob.Request.blank(path, method=method,
                                      body=json.dumps(body).encode())
            req.content_type = 'application/json'
            req.headers.update(headers)
            resp = req.get_response(app)
            assert resp.status_int in (201, 202), resp.text
            return resp.json

        ids = [call('POST', '/v1/destinations', {'destination': {
            'name': 'sink-%d' % k, 'medium': 'webhook',
            'settings': {'url': '%s/p/%d' % (sink.url, k)}}})[
                'destination']['id'] for k in range(args.destinations)]
        call('POST', '/v1/subscriptions', {'subscription': {
            'name': 'bench', 'destinations': ids}})
        make = scenarios.notification_request(project, headers)
        for i in range(args.notifications + 20):
            method, path, body, _ = make(i)
            call(method, path, body)
        ctx = notifier_context.get_admin_context()
        with enginefacade.reader.using(ctx) as session:
            rows = session.execute(select(models.Notification.id).where(
                models.Notification.project_id == project).order_by(
                models.Notification.id)).scalars().all()
        engine = manager.EngineManager(conf)
        pool = futurist.ThreadPoolExecutor(max_workers=args.concurrency)
        # warm-up: 20 notifications
        waiters.wait_for_all([pool.submit(engine.process, i)
                              for i in rows[:20]])
        rows = rows[20:]
        profiler = None
        if args.yappi:
            import yappi
            yappi.set_clock_type('cpu')
            yappi.start()
        elif not args.no_profile:
            import pyinstrument
            profiler = pyinstrument.Profiler(interval=0.001, async_mode=
                                             'disabled')
            profiler.start()
        counts = {}
        if args.statements:
            import collections
            counts = collections.Counter()

            @sa_event.listens_for(db_api.get_engine(),
                                  'before_cursor_execute')
            def count(conn, cursor, statement, *a):
                counts[' '.join(statement.split()[:4])[:60]] += 1
        held = {'now': 0, 'most': 0}

        @sa_event.listens_for(db_api.get_engine(), 'checkout')
        def checkout(*a):
            held['now'] += 1
            held['most'] = max(held['most'], held['now'])

        @sa_event.listens_for(db_api.get_engine(), 'checkin')
        def checkin(*a):
            held['now'] -= 1

        r0 = resource.getrusage(resource.RUSAGE_SELF)
        w0, c0 = time.perf_counter(), time.process_time()
        if args.one_by_one:
            waiters.wait_for_all([pool.submit(engine.process, i)
                                  for i in rows])
        else:  # as the RPC server's threads do: queued, taken in batches
            waiters.wait_for_all([pool.submit(engine.queue, i)
                                  for i in rows])
            while engine._queued or engine._leaders or engine._flights:
                time.sleep(0.005)
        wall = time.perf_counter() - w0
        cpu = time.process_time() - c0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        if profiler is not None:
            profiler.stop()
        if args.yappi:
            yappi.stop()
        n = len(rows) * args.destinations
        got = sum(1 for a in sink.since(0) if a[1].startswith('/p/'))
        print('%d deliveries (%d arrived incl. warm-up): %.1f/s, %.2f ms '
              'CPU per delivery' % (n, got, n / wall, cpu * 1000 / n))
        print('%d delivery threads: CPU %.2f s user, %.2f s system; %d '
              'voluntary context switches; at most %d database '
              'connections in use' % (
                  engine.conf.engine.delivery_threads,
                  r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime,
                  r1.ru_nvcsw - r0.ru_nvcsw, held['most']))
        for statement, k in sorted(counts.items(), key=lambda i: -i[1]):
            print('%6d  %5.2f/notification  %s' % (
                k, k / len(rows), statement))
        engine.stop()
        pool.shutdown()
        if args.yappi:
            stats = yappi.get_func_stats()
            by_package = {}
            for f in stats:
                path = f.module
                key = 'other'
                for marker in ('site-packages/', 'lib/python3.11/'):
                    if marker in path:
                        key = path.split(marker, 1)[1].split('/')[0]
                        break
                else:
                    if '/notifier/' in path:
                        key = 'notifier/' + path.split('/notifier/', 1)[
                            1].split('/')[0]
                by_package[key] = by_package.get(key, 0.0) + f.tsub
            total = sum(by_package.values()) or 1.0
            print('--- CPU by package (tsub)')
            for key, t in sorted(by_package.items(), key=lambda i: -i[1])[
                    :20]:
                print('%8.3f %5.1f%%  %s' % (t, 100 * t / total, key))
            for key in ('ttot', 'tsub'):
                print('--- by %s: ttot tsub ncall function' % key)
                for f in list(stats.sort(key))[:50]:
                    print('%8.3f %8.3f %7d  %s %s:%d' % (
                        f.ttot, f.tsub, f.ncall, f.name,
                        os.path.basename(f.module), f.lineno))
        if profiler is not None:
            harness.print_profile(profiler, args.html)
    finally:
        sink.close()
        stack.stop()


def send_only(n):
    """CPU per :meth:`WebhookDriver.deliver` to the sink (in a process of
    its own), as the engine calls it for a CloudEvent of a notification,
    one send at a time."""
    import statistics
    import send_only as send_only_mod
    sink = sink_mod.ProcessSink()
    driver = send_only_mod.driver()
    message = send_only_mod.message(7)
    try:
        for settings in ({'url': sink.url + '/p/0'},
                         {'url': sink.url + '/p/0', 'auth_token': 't' * 32,
                          'signing_secret': 'whsec_' + 'a' * 44}):
            for _ in range(100):
                driver.deliver(message, settings)
            rounds = []
            for _ in range(5):
                c0 = time.process_time()
                for _ in range(n):
                    driver.deliver(message, settings)
                rounds.append((time.process_time() - c0) * 1e6 / n)
            print('%s: %.0f us CPU per send (rounds: %s)' % (
                'signed, with a token' if 'auth_token' in settings
                else 'plain', statistics.median(rounds),
                ' '.join('%.0f' % r for r in rounds)))
    finally:
        driver.close()
        sink.close()

if __name__ == '__main__':
    main()
