"""Every route in the route table is policed."""

import re

from notifier.api import router
from notifier.tests.functional import base

UNPOLICED = {'/', '/v1'}
SAMPLE_BODIES = {
    ('/v1/notifications', 'POST'): base.notification_body(),
    ('/v1/hosts', 'POST'): {'host': {'name': 'h9'}},
    ('/v1/hosts/{host_id}', 'PUT'): {'host': {'on_maintenance': True}},
    ('/v1/destinations', 'POST'): {'destination': {'name': 'd',
                                                   'medium': 'log'}},
    ('/v1/destinations/{destination_id}', 'PUT'): {
        'destination': {'enabled': False}},
    ('/v1/destinations/{destination_id}/test', 'POST'): {},
    ('/v1/deliveries/{delivery_id}/resend', 'POST'): {},
    ('/v1/notifications/{notification_id}/reprocess', 'POST'): {},
    ('/v1/templates/{template_id}', 'PUT'): {'template': {'subject': 's'}},
    ('/v1/templates/{template_id}', 'POST'): {},
    ('/v1/templates/{template_id}/preview', 'POST'): {'template': {}},
    ('/v1/messages', 'POST'): {'m_body': 'x'},
    ('/v1/messages/slack', 'POST'): {'m_body': 'x'},
    ('/v1/messages/email', 'POST'): {'m_to': 'a@example.org', 'm_body': 'x'},
    ('/v1/broadcasts', 'POST'): {'broadcast': {}},
    ('/v1/subscriptions', 'POST'): {'subscription': {'name': 's',
                                                     'destinations': []}},
    ('/v1/subscriptions/{subscription_id}', 'PUT'): {
        'subscription': {'enabled': False}},
}
LATEST = {'OpenStack-API-Version': 'notification latest'}


class TestEveryRouteIsPoliced(base.FunctionalTestCase):
    start_engine = False

    def test_unrelated_role_never_gets_2xx(self):
        # Resources that exist, owned by the caller's own project.
        notification = self.api.post('/v1/notifications',
                                     base.notification_body(),
                                     status=202).json['notification']
        host_id = notification['source_host_uuid']
        destination = self.api.post('/v1/destinations', SAMPLE_BODIES[
            ('/v1/destinations', 'POST')], headers=LATEST,
            status=201).json['destination']
        subscription = self.api.post('/v1/subscriptions', SAMPLE_BODIES[
            ('/v1/subscriptions', 'POST')], headers=LATEST,
            status=201).json['subscription']
        outsider = dict(LATEST, **{'X-Roles': 'unrelated'})
        checked = 0
        for path, methods in router.ROUTES.items():
            if path in UNPOLICED:
                continue
            url = path.replace('{notification_id}', str(notification['id']))
            url = url.replace('{host_id}', host_id)
            url = url.replace('{destination_id}', destination['id'])
            url = url.replace('{subscription_id}', subscription['id'])
            # No engine runs, so there is no delivery: its routes are 404.
            url = url.replace('{delivery_id}',
                              '0b6f1d4e-2c8a-4e7b-9f3d-5a1c6e8b2d40')
            url = url.replace('{template_id}', 'process')
            # Unknown ids: the policy check comes first, or a 404.
            url = url.replace('{message_id}',
                              '5e0c2f7a-3b1d-4c9e-8a6f-2d4b7c1e9f30')
            url = url.replace('{broadcast_id}',
                              '7a3d9e1b-6c4f-4b2a-9e8d-1f5c3a7b2e60')
            self.assertIsNone(re.search('{', url), 'fill in %s' % path)
            for method in methods:
                body = SAMPLE_BODIES.get((path, method))
                if body is not None:
                    resp = getattr(self.api, method.lower())(
                        url, body, headers=outsider, expect_errors=True)
                else:
                    resp = getattr(self.api, method.lower())(
                        url, headers=outsider, expect_errors=True)
                self.assertIn(resp.status_int, (403, 404),
                              '%s %s gave %s' % (method, path, resp.status))
                checked += 1
        self.assertGreaterEqual(checked, 15)
