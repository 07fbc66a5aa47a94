from notifier import rendering
from notifier.tests import base


class TestRendering(base.TestCase):

    def event(self, **payload):
        return {'notification_uuid': 'u-1', 'type': 'PROCESS',
                'hostname': 'compute-1', 'source_host_uuid': 'h-1',
                'generated_time': '2026-11-23T10:00:00.000000',
                'payload': payload or {'event': 'STOPPED',
                                       'process_name': 'nova-compute'}}

    def test_subject_names_type_event_and_host(self):
        message = rendering.render_notification(self.event(), 'd-1')
        self.assertEqual('[PROCESS] STOPPED on compute-1', message.subject)
        self.assertEqual('org.openstack.notifier.notification.PROCESS',
                         message.event_type)

    def test_html_body_escapes_what_the_payload_says(self):
        message = rendering.render_notification(self.event(
            event='STOPPED', process_name='<script>alert(1)</script>'), 'd-1')
        self.assertNotIn('<script>', message.html)
        self.assertIn('&lt;script&gt;', message.html)
        self.assertIn('<script>', message.text)
