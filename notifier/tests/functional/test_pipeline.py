"""A notification posted to the API is stored, cast, claimed and delivered."""

from notifier.tests.functional import base


class TestPipeline(base.FunctionalTestCase):

    def test_posted_notification_is_delivered_and_finished(self):
        resp = self.api.post('/v1/notifications', base.notification_body(),
                             status=202)
        created = resp.json['notification']
        self.assertEqual('new', created['status'])
        self.assertIsInstance(created['id'], int)

        shown = self.wait_for_status(created['notification_uuid'],
                                     ['finished'])
        details = shown['recovery_workflow_details']
        self.assertEqual(1, len(details))
        self.assertEqual('Deliver to default:log', details[0]['name'])
        self.assertEqual('SUCCESS', details[0]['state'])
        self.assertIn('delivered', details[0]['progress_details'][0]['message'])

    def test_nothing_to_deliver_is_ignored(self):
        self.flags(default_destinations=[], group='engine')
        resp = self.api.post('/v1/notifications', base.notification_body(),
                             status=202)
        shown = self.wait_for_status(resp.json['notification']['id'],
                                     ['ignored', 'finished'])
        self.assertEqual('ignored', shown['status'])
        self.assertEqual([], shown['recovery_workflow_details'])
