"""The ``msteams`` driver: an Adaptive Card in a Microsoft Teams channel.

A destination holds the ``webhook_url`` of a Teams Workflows webhook (the
"Post to a channel when a webhook request is received" workflow), a secret
since whoever has it can post. Each delivery POSTs a message with one
Adaptive Card (version 1.4): the subject in bold, then the text.

2xx is success (Teams answers 202); 408, 429 and 5xx are retried, after
Retry-After when given; any other answer is permanent.
"""

import dataclasses

from notifier.drivers import base
from notifier.drivers import net

ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive'


def adaptive_card_message(message):
    """The body Teams workflows expect: a message with one Adaptive Card."""
    return {
        'type': 'message',
        'attachments': [{
            'contentType': ADAPTIVE_CARD,
            'contentUrl': None,
            'content': {
                '$schema': 'http://adaptivecards.io/schemas/'
                           'adaptive-card.json',
                'type': 'AdaptiveCard',
                'version': '1.4',
                'body': [
                    {'type': 'TextBlock', 'text': message.subject,
                     'weight': 'Bolder', 'size': 'Medium', 'wrap': True},
                    {'type': 'TextBlock', 'text': message.text,
                     'wrap': True},
                ],
            },
        }],
    }


class MSTeamsDriver(base.Driver):

    settings_schema = {
        'title': 'Microsoft Teams destination settings',
        'description': 'The Teams Workflows webhook that posts to your '
                       'channel.',
        'type': 'object',
        'properties': {
            # A secret: checked by validate_settings, whose errors do not
            # quote it, rather than by the schema, whose errors would.
            'webhook_url': {
                'type': 'string',
                'description': 'http(s) URL of a Teams Workflows webhook '
                               '(from the workflow "Post to a channel when '
                               'a webhook request is received"), at most '
                               '2048 characters: a secret, write-only.',
            },
        },
        'required': ['webhook_url'],
        'additionalProperties': False,
    }
    secret_settings = ('webhook_url',)

    def __init__(self, conf):
        super().__init__(conf)
        self._http = net.Session(conf)

    def check_configured(self):
        net.check_policy(self.conf)

    def validate_settings(self, settings):
        net.validate_url(self.conf, settings['webhook_url'], 'webhook_url')
        return settings

    def deliver(self, message, settings):
        url = settings['webhook_url']
        result = net.post(self.conf, self._http, url, 'Teams workflow',
                          self.conf.driver_msteams.timeout,
                          net.json_body(adaptive_card_message(message)),
                          headers=net.JSON_HEADERS)
        # The path is the workflow's credential: only the host is shown.
        return dataclasses.replace(
            result, recipients=(net.public_url(url, path=False),))

    def close(self):
        self._http.close()
