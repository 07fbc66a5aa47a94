from oslo_config import cfg

GROUP = 'api'

opts = [
    cfg.StrOpt('auth_strategy',
               default='keystone',
               choices=[('keystone', 'Authenticate every request (except '
                                     'version discovery and /healthcheck) '
                                     'with Keystone through '
                                     '[keystone_authtoken].'),
                        ('noauth2', 'UNSAFE, for development and tests '
                                    'only: trust an "X-Auth-Token: '
                                    'user:project" header.')],
               help='How API requests are authenticated.'),
    cfg.StrOpt('api_paste_config',
               default='api-paste.ini',
               help='The paste deploy file that builds the API pipeline. '
                    'A relative path is looked up in the config directories '
                    '(/etc/notifier, ...); the copy shipped in the package '
                    'is used if none is found.'),
    cfg.HostAddressOpt('host',
                       default='127.0.0.1',
                       help='Address notifier-api and notifier-all listen '
                            'on. Use 0.0.0.0 or :: to listen on every '
                            'interface (put TLS in front with a proxy).'),
    cfg.PortOpt('port',
                default=15869,
                help='TCP port notifier-api and notifier-all listen on.'),
    cfg.IntOpt('workers',
               default=1, min=1,
               help='Number of notifier-api processes. They share the port '
                    '(SO_REUSEPORT). One per CPU core is a good start.'),
    cfg.IntOpt('threads',
               default=16, min=1,
               help='Request threads per notifier-api process. Raise it if '
                    'requests queue while the CPU is idle.'),
    cfg.IntOpt('duplicate_notification_detection_interval',
               default=180, min=0,
               help='Seconds during which a notification with the same type, '
                    'host and payload as an accepted one is refused with '
                    '409 Conflict (masakari semantics). 0 turns duplicate '
                    'detection off.'),
    cfg.BoolOpt('auto_register_hosts',
                default=True,
                help='Register an unknown hostname as a host of the '
                     'project when a notification names it. When false, '
                     'a notification for an unregistered host is refused '
                     'with 400 Bad Request, as masakari does; create the '
                     'host first with POST /v1/hosts.'),
    cfg.IntOpt('max_limit',
               default=1000, min=1,
               help='The most items a list call returns in one page, '
                    'whatever limit the client asks for.'),
    cfg.FloatOpt('cast_interval',
                 default=0.01, min=0, max=1,
                 help='Seconds an API process lets pass between two casts '
                      'of new notifications to the engines; the '
                      'notifications created meanwhile share the next '
                      'cast. Fewer casts cost the API and RabbitMQ less '
                      'CPU (at 0.01, half of RabbitMQ\'s per created '
                      'notification under load); an engine hears of a '
                      'notification up to this much later while '
                      'notifications arrive faster than one per interval. '
                      'The notification is stored before the API answers '
                      'either way. 0 casts as soon as the previous cast '
                      'is sent.'),
    cfg.BoolOpt('validate_responses',
                default=False,
                help='Check every API response against its published JSON '
                     'schema and turn a mismatch into a 500. For tests and '
                     'development; it costs CPU on every request.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
