"""``[messages]``: defaults of direct messages (``/v1/messages``).

A direct message gives its content and, optionally, where it goes; what it
leaves out comes from here. Slack messages are posted with the
``[driver_slack]`` token and base_url (or to ``slack_webhook_url``), email
through the ``[driver_email]`` SMTP server.
"""

from oslo_config import cfg
from oslo_config import types

GROUP = 'messages'

opts = [
    cfg.StrOpt('slack_channel',
               help='Channel (such as "#general" or "C0123456789") that a '
                    'Slack message without "channel" is posted to, with '
                    'the [driver_slack] token. Unset, [driver_slack] '
                    'default_channel is used; with neither (and no '
                    'slack_webhook_url), a Slack message must name its '
                    'channel.'),
    cfg.StrOpt('slack_webhook_url',
               secret=True,
               help='Slack incoming webhook URL that Slack messages '
                    'without "channel" are posted to, when [driver_slack] '
                    'token is not set or no default channel is. A secret: '
                    'whoever has it can post.'),
    cfg.StrOpt('email_from',
               help='Sender of an email message that gives no "m_from". '
                    'Unset, [driver_email] from_address is used.'),
    cfg.ListOpt('email_to',
                default=[],
                help='Recipients of an email message that gives no "m_to", '
                     'and of messages sent by email over the fallback '
                     'list. Empty, such messages must give "m_to", and '
                     'email is skipped in the fallback list.'),
    cfg.StrOpt('email_subject',
               default='Notification',
               help='Subject of an email message that gives no '
                    '"m_subject", and of a fallback message without '
                    'subject. Empty, "m_subject" is required.'),
    cfg.ListOpt('fallback_media',
                item_type=types.String(choices=['slack', 'email']),
                default=['slack', 'email'],
                help='Media that POST /v1/messages (no medium named) tries, '
                     'in this order: the first one that is configured is '
                     'used and, if it fails, the next configured one takes '
                     'over. Media: slack, email.'),
    cfg.IntOpt('fallback_attempts',
               default=1, min=1,
               help='Attempts made on one medium of the fallback list '
                    'before the next configured medium takes over. The '
                    'last configured medium is retried up to [engine] '
                    'max_attempts like any delivery.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
