"""A PNG of the medians: one panel per scenario that ran."""

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

import harness  # noqa: E402


def plot(doc, path):
    m = doc['median']
    panels = [n for n in ('ingest', 'list', 'e2e', 'fanout', 'memory')
              if n in m]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4),
                             squeeze=False)
    for ax, name in zip(axes[0], panels):
        globals()['_' + name](ax, m[name])
    backend = harness.backend_label(doc)
    fig.suptitle('Notifier benchmarks: %s, medians of %d run(s)%s' % (
        backend, doc['runs'], ' (quick)' if doc['quick'] else ''))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _bars(ax, labels, series, ylabel, title):
    width = 0.8 / max(1, len(series))
    for k, (name, values) in enumerate(series.items()):
        xs = [i + k * width for i in range(len(labels))]
        ax.bar(xs, [v or 0 for v in values], width, label=name)
    ax.set_xticks([i + width * (len(series) - 1) / 2
                   for i in range(len(labels))])
    ax.set_xticklabels(labels)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize='small')


def _by_number(m, prefix):
    """The keys ``<prefix><number>`` of ``m``, by their number: c1, c8,
    c32 (the JSON's sorted keys put c32 before c8)."""
    return sorted((k for k in m if k.startswith(prefix)
                   and k[len(prefix):].isdigit()),
                  key=lambda k: int(k[len(prefix):]))


def _ingest(ax, m):
    keys = _by_number(m, 'c')
    series = {'notifier': [m[k]['notifier']['throughput_rps']
                           for k in keys]}
    if all('bare' in m[k] for k in keys):
        series['bare create'] = [m[k]['bare']['throughput_rps']
                                 for k in keys]
    series['trivial app'] = [m[k]['trivial']['throughput_rps'] for k in keys]
    _bars(ax, ['c=%s' % k[1:] for k in keys], series,
          'requests/s', '1. ingest POST /v1/notifications')
    ax.set_yscale('log')


def _list(ax, m):
    keys = [k for k in m if k.startswith('rows_')]
    pages = ['first', 'sorted', 'marker']
    _bars(ax, pages, {'%s rows' % m[k]['rows']: [m[k][p]['p50_ms']
                                                 for p in pages]
                      for k in keys}, 'p50 ms', '4. list limit=100')


def _e2e(ax, m):
    keys = _by_number(m, 'rate_')
    _bars(ax, ['%s/s' % k[5:] for k in keys], {
        'p50': [m[k]['post_to_sink']['p50_ms'] for k in keys],
        'p99': [m[k]['post_to_sink']['p99_ms'] for k in keys]},
        'ms', '2. POST -> sink latency')


def _fanout(ax, m):
    keys = [k for k in m if k.startswith('engines_')]
    _bars(ax, [k.replace('engines_', 'e').replace('_dests_', '/d')
               .replace('_backlog', '\nbacklog')
               for k in keys],
          {'deliveries/s': [m[k]['deliveries_per_s'] for k in keys],
           'per engine': [m[k]['per_engine'] for k in keys]},
          'deliveries/s', '3. fan-out (engines/destinations)')


def _memory(ax, m):
    labels, before, after = [], [], []
    for who in ('api', 'engine'):
        for pid, b in m['before_kib'][who].items():
            labels.append('%s %s' % (who, pid))
            before.append((b or 0) / 1024.0)
            after.append((m['after_kib'][who].get(pid) or 0) / 1024.0)
    _bars(ax, labels, {'before': before, 'after': after}, 'RSS MiB',
          '5. memory (%s notifications)' % m['notifications'])
    ax.tick_params(axis='x', labelrotation=30, labelsize='small')
