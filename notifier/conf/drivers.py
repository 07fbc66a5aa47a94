"""Options of the delivery drivers, one ``[driver_<medium>]`` group each."""

from oslo_config import cfg

log_opts = [
    cfg.StrOpt('level',
               default='INFO',
               choices=['DEBUG', 'INFO', 'WARNING', 'ERROR'],
               help='Log level at which the "log" driver writes each '
                    'delivered notification to the engine log.'),
]

email_opts = [
    cfg.HostAddressOpt('smtp_host',
                       help='SMTP server (host name or IP address) through '
                            'which the "email" and "sms" drivers send mail. '
                            'Unset, the two drivers are not configured: '
                            'destinations of those media are refused.'),
    cfg.PortOpt('smtp_port',
                default=25,
                help='Port of the SMTP server: usually 25 for a local relay '
                     '(security "none"), 587 for submission with '
                     '"starttls", 465 with "tls".'),
    cfg.StrOpt('security',
               default='none',
               choices=[('none', 'Plain SMTP, for a relay on this host or '
                                 'a trusted network.'),
                        ('starttls', 'Upgrade the session with STARTTLS and '
                                     'verify the server certificate; fails '
                                     'if the server does not offer it.'),
                        ('tls', 'TLS from the first byte (SMTPS, usually '
                                'port 465), verifying the server '
                                'certificate.')],
               help='How the connection to the SMTP server is protected. '
                    'Use "starttls" or "tls" whenever username and password '
                    'are set, so that they do not cross the network in '
                    'clear.'),
    cfg.StrOpt('ca_file',
               help='CA bundle (PEM) that signs the SMTP server\'s '
                    'certificate, for "starttls" and "tls". Unset, the '
                    'system\'s trusted CAs are used.'),
    cfg.StrOpt('username',
               help='User name to log in to the SMTP server. Unset, no '
                    'login is attempted.'),
    cfg.StrOpt('password',
               secret=True,
               help='Password of [driver_email] username on the SMTP '
                    'server.'),
    cfg.StrOpt('from_address',
               help='Sender of every email and SMS-as-email, as '
                    '"notifier@example.com" or "Notifier '
                    '<notifier@example.com>". Its domain also names the '
                    'Message-ID of each email. Unset, "notifier@" followed '
                    'by this host\'s fully qualified name is used, which '
                    'many relays refuse: set it.'),
    cfg.FloatOpt('timeout',
                 default=30.0, min=1.0,
                 help='Seconds to wait for the SMTP server, for the '
                      'connection and for each reply. A timeout counts as a '
                      'transient failure and the delivery is retried.'),
    cfg.IntOpt('max_connections',
               default=10, min=1,
               help='Most SMTP sessions an engine process has open at '
                    'once, for the "email" and "sms" drivers together (one '
                    'session per delivery); other deliveries of those media '
                    'wait for a free session, whatever [engine] '
                    'delivery_threads allows. Keep the engines\' total '
                    'below the number of connections the SMTP server '
                    'accepts from their hosts: a refused connection is '
                    'retried later and counts against the destination in '
                    'the circuit breaker.'),
]

sms_opts = [
    cfg.StrOpt('gateway_address',
               help='Email address of the SMS gateway, such as '
                    '"sms@example.com". Each SMS is mailed, through the '
                    '[driver_email] SMTP server, to this address with the '
                    'recipient\'s number in E.164 form appended to its '
                    'local part: "sms+4791234567@example.com". Unset, the '
                    '"sms" driver is not configured.'),
]

slack_opts = [
    cfg.StrOpt('token',
               secret=True,
               help='Slack bot token ("xoxb-...") with the chat:write '
                    'scope, used to post to a destination\'s channel with '
                    'chat.postMessage. Unset, only destinations with their '
                    'own webhook_url (an incoming webhook) can be used.'),
    cfg.URIOpt('base_url',
               default='https://slack.com/api/',
               schemes=['http', 'https'],
               help='Base URL of the Slack Web API. Change it only for a '
                    'Slack-compatible server or a test double.'),
    cfg.StrOpt('default_channel',
               help='Channel (name such as "#alerts" or id such as '
                    '"C0123456789") for destinations that give no channel '
                    'of their own. Unset, such destinations must give one.'),
    cfg.FloatOpt('timeout',
                 default=10.0, min=1.0,
                 help='Seconds to wait for Slack to answer one post. A '
                      'timeout counts as a transient failure and the '
                      'delivery is retried.'),
]

msteams_opts = [
    cfg.FloatOpt('timeout',
                 default=10.0, min=1.0,
                 help='Seconds to wait for a Microsoft Teams workflow '
                      'webhook to answer one post. A timeout counts as a '
                      'transient failure and the delivery is retried.'),
]

webhook_opts = [
    cfg.StrOpt('source',
               default='/notifier',
               help='CloudEvents "source" attribute of every webhook '
                    'delivery: a URI reference naming this Notifier '
                    'deployment, such as "/notifier/region-one" or '
                    '"https://notifier.example.com".'),
    cfg.FloatOpt('timeout',
                 default=10.0, min=1.0,
                 help='Seconds to wait for a webhook receiver to accept the '
                      'connection and, separately, to answer. A timeout '
                      'counts as a transient failure and the delivery is '
                      'retried.'),
    cfg.ListOpt('allowed_networks',
                default=[],
                help='Networks (CIDR, such as 203.0.113.0/24 or '
                     '2001:db8::/32) that URLs chosen by tenants may reach: '
                     'webhook URLs and Slack and Teams webhook URLs. Every '
                     'address the URL\'s host resolves to must be in one. '
                     'Empty, every address not denied is allowed.'),
    cfg.ListOpt('denied_networks',
                default=['169.254.0.0/16', 'fe80::/10', '169.254.169.254/32'],
                help='Networks (CIDR) that URLs chosen by tenants may never '
                     'reach, even if allowed_networks includes them: '
                     'checked when a destination is saved, before each '
                     'delivery and on each connection. The default refuses '
                     'link-local addresses and the metadata service. Add '
                     'your management, control plane and loopback networks '
                     '(127.0.0.0/8, ::1/128) so that tenants cannot make '
                     'the engine call internal services.'),
]

GROUPS = {
    'driver_log': log_opts,
    'driver_email': email_opts,
    'driver_sms': sms_opts,
    'driver_slack': slack_opts,
    'driver_msteams': msteams_opts,
    'driver_webhook': webhook_opts,
}


def register_opts(conf):
    for group, group_opts in GROUPS.items():
        conf.register_opts(group_opts, group=group)


def list_opts():
    return dict(GROUPS)
