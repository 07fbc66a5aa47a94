"""What a delivered notification says.

A plain rendering for every medium until per-project templates exist: a
one-line subject and a text body listing the notification's fields.
"""

import html
import json

from notifier.drivers import base

EVENT_TYPE_PREFIX = 'org.openstack.notifier.notification.'


def render_notification(event, delivery_id):
    """The :class:`base.Message` for a notification's API view ``event``."""
    payload = event.get('payload') or {}
    subject = '[%s] %s on %s' % (event['type'], payload.get('event', 'alert'),
                                 event['hostname'])
    lines = [
        'Notification %s' % event['notification_uuid'],
        'Type: %s' % event['type'],
        'Host: %s (%s)' % (event['hostname'], event['source_host_uuid']),
        'Generated: %s' % event['generated_time'],
        'Payload: %s' % json.dumps(payload, sort_keys=True),
    ]
    body = ''.join('<tr><th align="left">%s</th><td>%s</td></tr>' % (
        html.escape(label), html.escape(value))
        for label, value in (line.split(': ', 1) if ': ' in line
                             else ('', line) for line in lines))
    return base.Message(
        delivery_id=delivery_id, subject=subject,
        text='\n'.join(lines) + '\n',
        html='<html><body><h3>%s</h3><table>%s</table></body></html>' % (
            html.escape(subject), body),
        event=event, event_type=EVENT_TYPE_PREFIX + event['type'])
