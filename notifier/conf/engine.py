from oslo_config import cfg

GROUP = 'engine'

opts = [
    cfg.IntOpt('workers',
               default=1, min=1,
               help='Number of engine processes notifier-engine starts. Any '
                    'number of engines, on any number of nodes, may share '
                    'one broker and database: they compete for work.'),
    cfg.BoolOpt('pin_cpu',
                default=False,
                help='Run each engine process on one CPU of those it may '
                     'run on (as taskset or systemd\'s CPUAffinity= set '
                     'them), a different one for each engine process of '
                     'the host while there are free CPUs; a restarted '
                     'engine takes the CPU its predecessor left. An '
                     'engine\'s threads run one at a time, so one CPU is '
                     'all an engine uses, and kept on one it spends less '
                     'CPU per delivery: on a two-CPU host shared with the '
                     'database and the broker, an engine delivering '
                     'webhooks spent about 30 % less CPU per delivery '
                     'pinned, and delivered about 1.3 times as many per '
                     'second. Use it with at most one engine process per '
                     'CPU; to keep the engines off CPUs that other '
                     'services need, narrow the CPUs they may run on. '
                     'Linux only; it applies to notifier-all too, whose '
                     'one process is the API and an engine.'),
    cfg.IntOpt('delivery_threads',
               default=64, min=1,
               help='Size of the thread pool that sends deliveries, per '
                    'engine process: how many sends one engine has in '
                    'flight. A send mostly waits for its receiver (a Slack '
                    'or webhook answer takes 50 to 500 ms over the '
                    'internet), so an engine sends at most about this many '
                    'deliveries per receiver latency. SMTP sessions are '
                    'bounded further by [driver_email] max_connections. '
                    'The sending threads share a few database connections: '
                    'their attempts are recorded together.'),
    cfg.IntOpt('destination_concurrency',
               default=32, min=1,
               help='Most sends of notifications one engine process has in '
                    'flight to one destination; its other deliveries wait '
                    'in the engine until one of those ends. Below '
                    'delivery_threads, a destination that hangs (until '
                    'its driver\'s timeout) cannot hold every sending '
                    'thread while other destinations\' alerts wait.'),
    cfg.IntOpt('batch_size',
               default=64, min=1,
               help='Most notifications an engine claims, routes and '
                    'prepares together, in a few transactions, when they '
                    'arrive faster than it takes them one by one (a burst, '
                    'or a backlog after an outage). Each notification is '
                    'still released as soon as its own deliveries are '
                    'done. An engine holds at most this many, or four per '
                    'delivery thread if that is more, while their '
                    'deliveries are sent; further casts wait on the '
                    'broker. 1 handles notifications one at a time.'),
    cfg.IntOpt('claim_lease',
               default=300, min=10,
               help='Seconds an engine holds a notification it claimed. '
                    'The engine extends the lease every third of it while '
                    'it is still sending; if the engine dies, another '
                    'engine resumes the notification once the lease has '
                    'expired, without resending what was delivered. '
                    'Shorter means faster recovery from a crashed engine, '
                    'at the cost of more lease updates.'),
    cfg.IntOpt('recast_after',
               default=30, min=1,
               help='Seconds after which a notification still "new" is '
                    'considered lost in transit (broker down when it was '
                    'posted) and is picked up from the database by the '
                    'periodic task.'),
    cfg.IntOpt('periodic_interval',
               default=10, min=1,
               help='Seconds between two runs of the engine\'s periodic '
                    'task that resumes lost, stalled and due work and '
                    'expires old notifications.'),
    cfg.IntOpt('periodic_batch_size',
               default=200, min=1,
               help='Most notifications (and, separately, direct '
                    'messages and broadcasts) the periodic task picks up at '
                    'a time. While whole batches are due (a backlog after '
                    'the broker or every engine was down), it takes batch '
                    'after batch for up to periodic_interval seconds, and '
                    'the next run goes on.'),
    cfg.IntOpt('notification_max_age',
               default=86400, min=60,
               help='Seconds after which a notification that is still not '
                    'finished is given up: it becomes "failed" and its '
                    'pending deliveries are failed as expired.'),
    cfg.IntOpt('max_attempts',
               default=5, min=1,
               help='Most delivery attempts per delivery, the first '
                    'included, before a transient failure becomes '
                    'permanent.'),
    cfg.FloatOpt('retry_initial_delay',
                 default=5.0, min=0.0,
                 help='Seconds before the first retry of a delivery that '
                      'failed transiently. Each later retry waits twice as '
                      'long, with up to 20% random jitter.'),
    cfg.FloatOpt('retry_max_delay',
                 default=600.0, min=0.0,
                 help='Longest wait between two attempts of one delivery.'),
    cfg.IntOpt('breaker_threshold',
               default=5, min=0,
               help='Consecutive transient failures (connection errors, '
                    'timeouts, HTTP 408/429/5xx, SMTP 4xx) after which a '
                    'destination is paused: its deliveries wait, without '
                    'using an attempt or an engine thread, until '
                    'breaker_pause has passed; then one probe delivery '
                    'goes, and its success resumes the destination while '
                    'its failure pauses it again for twice as long. 0 '
                    'turns the circuit breaker off.'),
    cfg.FloatOpt('breaker_pause',
                 default=60.0, min=1.0,
                 help='Seconds a destination stays paused the first time '
                      'the circuit breaker opens (see breaker_threshold). '
                      'Each failed probe doubles it, up to '
                      'breaker_max_pause.'),
    cfg.FloatOpt('breaker_max_pause',
                 default=1800.0, min=1.0,
                 help='Longest pause of a destination whose probes keep '
                      'failing. Deliveries still expire after '
                      'notification_max_age.'),
    cfg.ListOpt('default_destinations',
                default=['log'],
                help='Media every notification is delivered to in addition '
                     'to what tenants subscribe, each handled by the driver '
                     'of that name with its [driver_<name>] options. The '
                     'default, "log", writes each notification to the '
                     'engine log. An empty list delivers nothing by '
                     'default.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
