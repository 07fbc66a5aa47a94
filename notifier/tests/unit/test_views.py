"""The ledger's view of a delivery: the embedded view plus the ledger's
fields, with its notification's uuid and no internal ids."""

import datetime

from notifier.api.schemas import deliveries as schema
from notifier.api import validation
from notifier.db import models
from notifier.tests import base
from notifier import views

WHEN = datetime.datetime(2026, 11, 23, 10, 0, 0, 5)


def delivery(**changes):
    values = dict(
        id=3, uuid='6f1c2a7e-2b1d-4c5e-9f00-1a2b3c4d5e6f', notification_id=7,
        target='destination:0b6f1d4e-2c8a-4e7b-9f3d-5a1c6e8b2d40',
        medium='webhook', destination_id=2, status='delivered', attempts=1,
        receipt='HTTP 200', last_error=None, delivered_at=WHEN,
        created_at=WHEN, updated_at=WHEN, project_id='demo', subject='S',
        text_body='T\n', html_body='<p>T</p>',
        recipients=['https://hooks.example.com/alerts'],
        template='compute_host', template_version=2, last_attempt_at=WHEN)
    values.update(changes)
    row = models.Delivery(**values)
    row.notification = models.Notification(
        id=7, notification_uuid='a0c7b8a2-1d3e-4f5a-8b9c-0d1e2f3a4b5c')
    row.attempt_records = []
    return row


class TestLedgerView(base.TestCase):

    def test_fields(self):
        body = views.ledger_delivery(delivery())
        self.assertEqual('a0c7b8a2-1d3e-4f5a-8b9c-0d1e2f3a4b5c',
                         body['notification_id'])
        self.assertEqual('0b6f1d4e-2c8a-4e7b-9f3d-5a1c6e8b2d40',
                         body['destination_id'])
        self.assertEqual(('S', 'T\n', '<p>T</p>'),
                         (body['subject'], body['text'], body['html']))
        self.assertEqual(['https://hooks.example.com/alerts'],
                         body['recipients'])
        self.assertEqual(('compute_host', 2),
                         (body['template'], body['template_version']))
        self.assertEqual('2026-11-23T10:00:00.000005',
                         body['last_attempt_at'])
        validation.validate(validation.validator(schema.show_response_body),
                            {'delivery': body})

    def test_not_attempted_yet(self):
        body = views.ledger_delivery(delivery(
            status='pending', attempts=0, subject=None, text_body=None,
            html_body=None, recipients=None, template=None,
            template_version=None, last_attempt_at=None, receipt=None,
            delivered_at=None))
        self.assertEqual([], body['recipients'])
        self.assertIsNone(body['last_attempt_at'])
        validation.validate(validation.validator(schema.show_response_body),
                            {'delivery': body})

    def test_the_embedded_view_is_unchanged(self):
        body = views.delivery(delivery())
        self.assertNotIn('recipients', body)
        self.assertNotIn('text', body)
