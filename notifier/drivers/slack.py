"""The ``slack`` driver: a post in a Slack channel.

A destination gives either a ``channel`` (or none, for ``[driver_slack]
default_channel``), posted to with ``chat.postMessage`` and the operator's
bot token, or a ``webhook_url``: a Slack incoming webhook (or a
Slack-compatible one) that the tenant created, which is a secret since
whoever has it can post. The text is the subject, a new line and the text,
with ``&``, ``<`` and ``>`` escaped as Slack asks, so that an event's content
cannot mention ``@channel`` or make links.

Rate limiting (HTTP 429) is retried after Slack's Retry-After, as are
Slack's own transient errors, 5xx answers and network failures; every other
error (``channel_not_found``, ``invalid_auth``, ...) is permanent.
"""

import dataclasses
import http.client

import slack_sdk
from slack_sdk import errors as slack_errors

from notifier.drivers import base
from notifier.drivers import email as email_driver
from notifier.drivers import net
from notifier import exception

# Slack truncates longer texts; stay below its limit.
MAX_TEXT = 39000
# chat.postMessage errors worth another attempt later.
TRANSIENT_ERRORS = frozenset(['ratelimited', 'internal_error', 'fatal_error',
                              'service_unavailable', 'request_timeout'])
HINTS = {
    'channel_not_found': 'check the channel\'s name or id',
    'not_in_channel': 'invite the Notifier app to the channel',
    'is_archived': 'the channel is archived; choose another one',
    'invalid_auth': 'check [driver_slack] token',
    'not_authed': 'set [driver_slack] token',
    'token_revoked': 'set a valid [driver_slack] token',
    'account_inactive': 'set a valid [driver_slack] token',
    'missing_scope': 'give the app the chat:write scope',
}


def escape(text):
    """``text`` with the three characters Slack reserves escaped."""
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>',
                                                                   '&gt;')


def slack_text(message):
    text = escape('%s\n%s' % (message.subject, message.text.rstrip('\n')))
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + '\u2026'


class SlackDriver(base.Driver):

    settings_schema = {
        'title': 'Slack destination settings',
        'description': 'Give a channel to post to with the cloud\'s Slack '
                       'app, or a webhook_url of your own incoming webhook, '
                       'not both. With neither, the operator\'s default '
                       'channel is used.',
        'type': 'object',
        'properties': {
            'channel': {
                'type': 'string', 'minLength': 1, 'maxLength': 81,
                'pattern': r'^\S+$',
                'description': 'Channel name (such as "#alerts") or id '
                               '(such as "C0123456789") that the cloud\'s '
                               'Slack app has been invited to.',
            },
            # A secret: checked by validate_settings, whose errors do not
            # quote it, rather than by the schema, whose errors would.
            'webhook_url': {
                'type': 'string',
                'description': 'http(s) URL of a Slack incoming webhook, '
                               'such as https://hooks.slack.com/services/'
                               'T.../B.../..., at most 2048 characters: a '
                               'secret, write-only.',
            },
        },
        'additionalProperties': False,
    }
    secret_settings = ('webhook_url',)

    def __init__(self, conf):
        super().__init__(conf)
        self._http = net.Session(conf)

    @property
    def _opts(self):
        return self.conf.driver_slack

    def check_configured(self):
        """Always usable with incoming webhooks; posting to a channel also
        needs ``[driver_slack] token``, which :meth:`validate_settings`
        checks for such destinations."""
        net.check_policy(self.conf)

    def validate_settings(self, settings):
        if 'webhook_url' in settings:
            if 'channel' in settings:
                raise exception.ValidationError(
                    detail='Invalid input for field settings: give channel '
                           'or webhook_url, not both; an incoming webhook '
                           'posts to the channel it was created for.',
                    field='settings')
            net.validate_url(self.conf, settings['webhook_url'],
                             'webhook_url')
            return settings
        if not settings.get('channel') and not self._opts.default_channel:
            raise exception.ValidationError(
                detail='Missing field in settings: channel is required, '
                       'since the operator has set no [driver_slack] '
                       'default_channel.', field='channel')
        if not self._opts.token:
            raise exception.ValidationError(
                detail='Invalid input for field settings: this cloud posts '
                       'to Slack only through incoming webhooks '
                       '([driver_slack] token is not set); give a '
                       'webhook_url instead of a channel.', field='channel')
        return settings

    def deliver(self, message, settings):
        text = slack_text(message)
        url = settings.get('webhook_url')
        if url:
            result = net.post(self.conf, self._http, url, 'Slack webhook',
                              self._opts.timeout,
                              net.json_body({'text': text}),
                              headers=net.JSON_HEADERS)
            # The path is the webhook's credential: only the host is shown.
            return dataclasses.replace(
                result, recipients=(net.public_url(url, path=False),))
        return self._post_message(
            settings.get('channel') or self._opts.default_channel, text)

    def _post_message(self, channel, text):
        if not channel:
            raise exception.PermanentDeliveryError(
                'Not posted to Slack: the destination has no channel and '
                '[driver_slack] default_channel is not set.')
        if not self._opts.token:
            raise exception.PermanentDeliveryError(
                'Not posted to Slack channel %s: [driver_slack] token is not '
                'set.' % channel)
        # No retries inside the client: the engine retries, with backoff
        # and a record of each attempt.
        base_url = self._opts.base_url.rstrip('/') + '/'
        client = slack_sdk.WebClient(token=self._opts.token,
                                     base_url=base_url,
                                     timeout=self._opts.timeout,
                                     retry_handlers=[])
        server = net.host_of(self._opts.base_url)
        try:
            response = client.chat_postMessage(channel=channel, text=text,
                                               unfurl_links=False,
                                               unfurl_media=False)
        except slack_errors.SlackApiError as e:
            raise self._api_error(channel, e.response)
        except slack_errors.SlackClientError as e:
            raise exception.PermanentDeliveryError(
                'Not posted to Slack channel %s: %s; check [driver_slack] '
                'base_url.' % (channel, email_driver.one_line(str(e), 200)))
        except (OSError, http.client.HTTPException) as e:
            reason = getattr(e, 'reason', None) or e
            raise exception.RetryableDeliveryError(
                'Could not reach Slack at %s: %s.' % (
                    server, email_driver.one_line(str(reason), 200) or
                    type(reason).__name__))
        return base.Result(receipt='ok ts=%s channel=%s' % (
            response.get('ts'), response.get('channel')),
            recipients=(channel,))

    @staticmethod
    def _api_error(channel, response):
        status = response.status_code
        data = response.data if isinstance(response.data, dict) else {}
        error = email_driver.one_line(
            str(data.get('error') or 'HTTP %d' % status), 100)
        receipt = 'HTTP %d %s' % (status, error)
        if status == 429 or error == 'ratelimited':
            headers = {k.lower(): v
                       for k, v in (response.headers or {}).items()}
            retry_after = net.parse_retry_after(headers.get('retry-after'))
            return exception.RetryableDeliveryError(
                'Slack is rate limiting posts to channel %s; retrying%s.' % (
                    channel, ' after %.0f s as asked' % retry_after
                    if retry_after is not None else ''),
                retry_after=retry_after, receipt=receipt)
        if status >= 500 or error in TRANSIENT_ERRORS:
            return exception.RetryableDeliveryError(
                'Slack failed to take the post to channel %s (%s); '
                'retrying.' % (channel, error), receipt=receipt)
        hint = HINTS.get(error)
        return exception.PermanentDeliveryError(
            'Slack refused the post to channel %s: %s%s.' % (
                channel, error, ' (%s)' % hint if hint else ''),
            receipt=receipt)

    def close(self):
        self._http.close()
