#!/usr/bin/env python3
"""Notifier's benchmark suite (``tox -e bench -- --help``).

Starts what it measures (database, Notifier's API, a trivial WSGI app and
a bare create that only commits the row, under the same gunicorn, engines,
a webhook sink on loopback), runs the scenarios ``--runs`` times, and
reports the medians: one JSON document (``--output``), a table on stdout
and a PNG plot (``--plot``, needs matplotlib:
tools/bench/requirements.txt). Targets are reported, never asserted. Not
part of the test suite.
"""

import argparse
import dataclasses
import datetime
import json
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import scenarios  # noqa: E402
import sink as sink_mod  # noqa: E402

ALL = ['ingest', 'list', 'e2e', 'fanout', 'memory']


@dataclasses.dataclass
class Settings:
    concurrency: tuple = (1, 8, 32)
    ingest_duration: float = 15.0
    ingest_max: int = 20000
    list_rows: tuple = (10000,)
    list_duration: float = 30.0
    list_requests: int = 200
    e2e_rates: tuple = (100, 300)
    e2e_duration: float = 20.0
    e2e_warmup: float = 3.0  # seconds at the rate before measuring
    drain_timeout: float = 120.0
    fanout_engines: tuple = (1, 2)
    fanout_destinations: tuple = (1, 10)
    fanout_deliveries: int = 6000
    fanout_warmup: int = 200  # deliveries per case before the timed ones
    memory_notifications: int = 50000
    memory_warmup: int = 2000  # delivered before the first measure
    memory_steps: int = 5  # RSS measured after each fifth
    memory_timeout: float = 900.0


def quick(s):
    s.ingest_duration, s.ingest_max = 5.0, 5000
    s.list_duration, s.list_requests = 10.0, 50
    s.e2e_duration, s.drain_timeout = 5.0, 45.0
    s.e2e_warmup = 2.0
    s.fanout_deliveries, s.fanout_warmup = 500, 50
    s.memory_notifications, s.memory_timeout = 5000, 180.0
    s.memory_warmup = 500
    return s


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--scenarios', default='ingest,list',
                   help='comma separated, from: %s, or all '
                        '(default: ingest,list)' % ','.join(ALL))
    harness.add_database_arguments(p)
    p.add_argument('--auth', choices=['noauth2', 'keystone'],
                   default='noauth2',
                   help='keystone: Keystone tokens (KEYSTONE_URL), '
                        'validated by keystonemiddleware (ingest only)')
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--quick', action='store_true',
                   help='short loops and small counts (minutes, not hours)')
    p.add_argument('--workers', type=int, default=2,
                   help='gunicorn workers, same for both apps')
    p.add_argument('--threads', type=int, default=8,
                   help='gunicorn gthread threads per worker')
    p.add_argument('--engine-env', action='append', default=[],
                   metavar='NAME=VALUE',
                   help='an environment variable for the engines only, '
                        'as a service unit would set it (repeatable), '
                        'e.g. GLIBC_TUNABLES=glibc.malloc.tcache_count=0')
    p.add_argument('--no-pin-engines', dest='pin_engines',
                   action='store_false',
                   help='leave the engines on the CPUs the operating '
                        'system chooses (default: [engine] pin_cpu, a CPU '
                        'of its own for each engine)')
    p.add_argument('--fanout-engines', default=None, metavar='N,...',
                   help='fan-out: the numbers of engines of its cases '
                        '(default: 1,2)')
    p.add_argument('--fanout-destinations', default=None, metavar='N,...',
                   help='fan-out: the numbers of destinations per '
                        'notification of its cases (default: 1,10)')
    p.add_argument('--million', action='store_true',
                   help='list scaling at 1,000,000 rows too (long seed)')
    p.add_argument('--output', default=None,
                   help='JSON file (default: bench-<backend>-<time>.json)')
    p.add_argument('--plot', default=None,
                   help='PNG file (default: next to the JSON)')
    p.add_argument('--no-plot', action='store_true')
    args = p.parse_args(argv)
    names = ALL if args.scenarios == 'all' else \
        [n.strip() for n in args.scenarios.split(',') if n.strip()]
    bad = set(names) - set(ALL)
    if bad:
        p.error('unknown scenarios: %s' % ', '.join(sorted(bad)))
    if args.auth == 'keystone' and set(names) - {'ingest'}:
        p.error('--auth keystone measures ingest only')
    args.names = names
    for name in ('fanout_engines', 'fanout_destinations'):
        value = getattr(args, name)
        if value is None:
            continue
        try:
            counts = tuple(int(v) for v in value.split(','))
        except ValueError:
            counts = ()
        if not counts or min(counts) < 1:
            p.error('--%s takes numbers of at least 1 separated by commas, '
                    'such as 1,2; not %r' % (name.replace('_', '-'), value))
        setattr(args, name, counts)
    env = {}
    for item in args.engine_env:
        name, sep, value = item.partition('=')
        if not sep or not name:
            p.error('--engine-env takes NAME=VALUE, not %r' % item)
        env[name] = value
    args.engine_env = env
    return args


def median_of(runs):
    """Median, leaf by leaf, of the numbers of several runs' dicts."""
    first = runs[0]
    if isinstance(first, dict):
        return {k: median_of([r[k] for r in runs if isinstance(r, dict)
                              and k in r]) for k in first}
    if isinstance(first, bool) or not isinstance(first, (int, float)):
        return first
    nums = [r for r in runs if isinstance(r, (int, float))]
    m = statistics.median(nums)
    return round(m, 3) if isinstance(m, float) else m


def log(msg):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr,
          flush=True)


def run_all(args, s, stack, sink, doc, partial=None):
    """Every scenario ``args.runs`` times; after each one the document so
    far is written to ``partial`` (a failed or interrupted suite keeps its
    completed runs)."""
    try:
        for i in range(args.runs):
            for name in args.names:
                log('run %d/%d: %s' % (i + 1, args.runs, name))
                t0 = time.monotonic()
                try:
                    if name == 'ingest':
                        r = scenarios.ingest(stack, s, i)
                    elif name == 'list':
                        r = scenarios.list_scaling(stack, s, i, log)
                    elif name == 'e2e':
                        r = scenarios.end_to_end(stack, s, i, sink)
                    elif name == 'fanout':
                        r = scenarios.fan_out(stack, s, i, sink)
                    elif name == 'memory':
                        r = scenarios.memory(stack, s, i, sink)
                except Exception as e:  # reported, the other runs go on
                    log('%s failed: %r' % (name, e))
                    doc.setdefault('errors', []).append(
                        'run %d %s: %r' % (i + 1, name, e))
                    stack.stop_engines()
                    continue
                r['wall_s'] = round(time.monotonic() - t0, 1)
                doc['raw'][name].append(r)
                stack.stop_engines()
                if partial:
                    with open(partial, 'w') as f:
                        json.dump(doc, f, indent=2, sort_keys=True)
    except KeyboardInterrupt:
        log('interrupted: reporting the runs that completed')
        doc['interrupted'] = True


def settings_of(args):
    """The scenarios' Settings that the arguments ask for."""
    s = Settings()
    if args.quick:
        quick(s)
    if args.million:
        s.list_rows = (10000, 1000000)
    if args.fanout_engines:
        s.fanout_engines = args.fanout_engines
    if args.fanout_destinations:
        s.fanout_destinations = args.fanout_destinations
    return s


def run(args):
    s = settings_of(args)
    doc = {
        'started': datetime.datetime.now(datetime.timezone.utc).isoformat(),
        'backend': args.backend, 'runs': args.runs, 'quick': args.quick,
        'mysql_driver': args.mysql_driver if args.backend == 'mysql' else None,
        'workers': args.workers, 'threads': args.threads,
        'transport': 'rabbit (machine broker, 127.0.0.1:5672)',
        'auth': args.auth, 'engine_env': args.engine_env,
        'engines_pinned': args.pin_engines,
        'machine': {'cpus': os.cpu_count(), 'python': platform.python_version(),
                    'load_before': os.getloadavg()},
        'settings': dataclasses.asdict(s),
        'raw': {n: [] for n in args.names},
    }
    stack = harness.Stack(args.backend, args.workers, args.threads, log=log,
                          auth=args.auth, mysql_driver=args.mysql_driver,
                          engine_env=args.engine_env,
                          pin_engines=args.pin_engines)
    sink = sink_mod.ProcessSink()
    try:
        stack.start()
        log('starting gunicorn (notifier, trivial, bare create: %d '
            'workers x %d threads)' % (args.workers, args.threads))
        stack.start_apis()
        run_all(args, s, stack, sink, doc, partial=args.partial)
    finally:
        doc['logs_dir'] = getattr(stack.deployment, 'path', None) \
            if hasattr(stack, 'deployment') else None
        sink.close()
        stack.stop()
    doc['median'] = {n: median_of(doc['raw'][n])
                     for n in args.names if doc['raw'][n]}
    doc['machine']['load_after'] = os.getloadavg()
    return doc


def fmt(v):
    return '-' if v is None else str(v)


def table(doc):
    m = doc['median']
    backend = harness.backend_label(doc)
    lines = ['Notifier benchmarks: backend=%s, auth=%s, medians of %d '
             'run(s)%s, %d gunicorn workers x %d threads' % (
                 backend, doc['auth'], doc['runs'],
                 ' (quick)' if doc['quick'] else '', doc['workers'],
                 doc['threads'])]
    if doc.get('engine_env'):
        lines.append('engine environment: %s' % ' '.join(
            '%s=%s' % kv for kv in sorted(doc['engine_env'].items())))
    if doc.get('engines_pinned') is not None:  # not in older documents
        lines.append('engines: %s' % (
            'a CPU of its own each ([engine] pin_cpu)'
            if doc['engines_pinned'] else 'on the CPUs the system chooses'))
    if 'ingest' in m:
        lines.append('\n1. ingest: POST /v1/notifications, unique payloads')
        lines.append('%-6s %12s %9s %9s %12s %9s %9s %7s' % (
            'conc', 'notif rps', 'p50 ms', 'p99 ms', 'trivial rps',
            'p50 ms', 'p99 ms', 'ratio'))
        for key, row in m['ingest'].items():
            if not key.startswith('c'):
                continue
            n, t = row['notifier'], row['trivial']
            lines.append('%-6s %12s %9s %9s %12s %9s %9s %7s' % (
                key[1:], fmt(n['throughput_rps']), fmt(n['p50_ms']),
                fmt(n['p99_ms']), fmt(t['throughput_rps']),
                fmt(t['p50_ms']), fmt(t['p99_ms']),
                fmt(row['ratio_throughput'])))
        rows = [(key, row) for key, row in m['ingest'].items()
                if key.startswith('c')]
        # Documents from before the bare create was measured have none.
        bare = all('bare' in row for _, row in rows)
        if bare:
            lines.append('bare create (one INSERT and COMMIT through the '
                         'driver alone), and the ratios of throughput:')
            lines.append('%-6s %12s %9s %9s %12s %12s' % (
                'conc', 'bare rps', 'p50 ms', 'p99 ms', 'bare/trivial',
                'notif/bare'))
            for key, row in rows:
                b = row['bare']
                lines.append('%-6s %12s %9s %9s %12s %12s' % (
                    key[1:], fmt(b['throughput_rps']), fmt(b['p50_ms']),
                    fmt(b['p99_ms']), fmt(row.get('ratio_bare_to_trivial')),
                    fmt(row.get('ratio_to_bare'))))
        names = ['notifier', 'bare', 'trivial'] if bare else \
            ['notifier', 'trivial']
        lines.append('CPU ms per request (%s), and the machine\'s busy '
                     'share:' % ' / '.join(names))
        for key, row in rows:
            sides = [row[name] for name in names]
            if not isinstance(sides[0].get('cpu_ms_per_request'), dict):
                continue  # a document from before the split was measured
            lines.append('%-6s %s; busy %s' % (key[1:], ', '.join(
                '%s %s' % (who, ' / '.join(
                    fmt(side['cpu_ms_per_request'].get(who))
                    for side in sides))
                for who in ('api', 'database', 'broker', 'loadgen')),
                ' / '.join(fmt(side.get('machine_busy')) for side in sides)))
    if 'list' in m:
        lines.append('\n4. list: GET /v1/notifications?limit=100, '
                     'sequential (trivial app p50 %s ms)' %
                     fmt(m['list']['trivial']['p50_ms']))
        lines.append('%-10s %-8s %9s %9s %12s' % ('rows', 'page', 'p50 ms',
                                                  'p99 ms', 'x trivial'))
        for key, res in m['list'].items():
            if not key.startswith('rows_'):
                continue
            for page in ('first', 'sorted', 'marker'):
                r = res[page]
                lines.append('%-10s %-8s %9s %9s %12s' % (
                    res['rows'], page, fmt(r['p50_ms']), fmt(r['p99_ms']),
                    fmt(r['ratio_p50_to_trivial'])))
    if 'e2e' in m:
        lines.append('\n2. end to end: POST -> webhook sink, 1 engine')
        lines.append('%-8s %9s %8s %7s %8s %12s %12s' % (
            'rate/s', 'achieved', 'not sent', 'sent', 'arrived', 'p50 ms',
            'p99 ms'))
        for key, r in m['e2e'].items():
            if not key.startswith('rate_'):
                continue
            lines.append('%-8s %9s %8s %7s %8s %12s %12s' % (
                key[5:], fmt(r['load']['achieved_rate']),
                fmt(r['load'].get('not_sent')), fmt(r['sent']),
                fmt(r['arrived']), fmt(r['post_to_sink']['p50_ms']),
                fmt(r['post_to_sink']['p99_ms'])))
    if 'fanout' in m:
        lines.append('\n3. fan-out: webhook deliveries/s')
        lines.append('%-8s %-13s %9s %10s %10s %10s %8s %8s %8s %6s' % (
            'engines', 'dests', 'expected', 'delivered', 'deliv/s',
            'per engine', 'busiest', 'eng ms', 'other ms', 'busy'))
        for key, r in m['fanout'].items():
            if not key.startswith('engines_'):
                continue
            parts = key.split('_')
            cpu = r.get('cpu_ms_per_delivery') or {}
            other = [v for k, v in cpu.items() if k != 'engines']
            lines.append('%-8s %-13s %9s %10s %10s %10s %8s %8s %8s %6s' % (
                parts[1], ' '.join(parts[3:]), fmt(r['expected']),
                fmt(r['delivered']),
                fmt(r['deliveries_per_s']), fmt(r['per_engine']),
                fmt(r.get('busiest_engine_share')), fmt(cpu.get('engines')),
                fmt(round(sum(other), 3) if other else None),
                fmt(r.get('machine_busy'))))
        scaled = []
        for key, r in m['fanout'].items():
            if key.startswith('scaling_'):
                _, engines, _, _, dests = key.split('_')
                scaled.append('%s engines with %s destination(s) %sx' % (
                    engines, dests, fmt(r)))
        if scaled:
            lines.append('scaling, the median of the runs\' ratios to one '
                         'engine: ' + '; '.join(scaled))
        ref = m['fanout'].get('send_only')
        if ref:  # not in documents from before the thirteenth round
            shares = ['%s destination(s) %s' % (key.rsplit('_', 1)[1],
                                                fmt(r))
                      for key, r in m['fanout'].items()
                      if key.startswith('share_of_send_only_')]
            lines.append('send only (the webhook driver alone, %s threads, '
                         'no database%s): %s sends/s, %s ms CPU per send; '
                         'one engine\'s deliveries/s over it: %s' % (
                             fmt(ref.get('threads')),
                             ', one CPU' if ref.get('pinned') else '',
                             fmt(ref.get('sends_per_s')),
                             fmt(ref.get('cpu_ms_per_send')),
                             '; '.join(shares) or '-'))
        lines.append('deliv/s: timed from the cast, after a warm-up of '
                     'the engines (none for the backlog); eng ms / other '
                     'ms: CPU per delivery of the engines / of the '
                     'database, broker and sink; busy: the machine\'s '
                     'busy share of its CPU time meanwhile')
    if 'memory' in m:
        r = m['memory']
        lines.append('\n5. memory: RSS (KiB) before/after %s notifications'
                     % fmt(r['notifications']))
        for who in ('api', 'engine'):
            for pid, before in r['before_kib'][who].items():
                lines.append('%-7s pid %-8s %10s -> %10s   (%s)' % (
                    who, pid, fmt(before), fmt(r['after_kib'][who].get(pid)),
                    ', '.join(fmt(step[who].get(pid))
                              for step in r.get('steps', ()))))
        lines.append('(in brackets: after each %s of the run)' % fmt(
            r.get('step_notifications')))
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    stamp = time.strftime('%Y%m%d-%H%M%S')
    output = args.output or 'bench-%s-%s.json' % (args.backend, stamp)
    args.partial = output + '.partial'
    doc = run(args)
    with open(output, 'w') as f:
        json.dump(doc, f, indent=2, sort_keys=True)
    if os.path.exists(args.partial):
        os.unlink(args.partial)
    print(table(doc))
    for error in doc.get('errors', []):
        print('error: %s' % error)
    print('\nJSON: %s' % output)
    if not args.no_plot:
        plot = args.plot or os.path.splitext(output)[0] + '.png'
        try:
            import plot as plot_mod
            plot_mod.plot(doc, plot)
            print('plot: %s' % plot)
        except ImportError as e:
            print('no plot (%s): pip install -r tools/bench/requirements.txt'
                  % e)
    return 0


if __name__ == '__main__':
    sys.exit(main())
