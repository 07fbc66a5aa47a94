from notifier.api import router
from notifier.tests import base


class TestRouteTable(base.TestCase):

    def test_every_v1_route_is_also_served_under_a_project_id(self):
        mapper = router._mapper()
        for path in router.ROUTES:
            if not path.startswith('/v1/'):
                continue
            concrete = path.replace('{notification_id}', '7').replace(
                '{host_id}', 'h')
            match = mapper.match('/v1/myproject' + concrete[len('/v1'):])
            self.assertIsNotNone(match, path)
            self.assertEqual(path, match['route'])
            self.assertEqual('myproject', match['project_id'])

    def test_resource_paths_are_not_mistaken_for_project_ids(self):
        match = router._mapper().match('/v1/notifications/12')
        self.assertEqual('/v1/notifications/{notification_id}',
                         match['route'])
        self.assertNotIn('project_id', match)

    def test_every_handler_is_wrapped_to_return_json_faults(self):
        for path, methods in router.ROUTES.items():
            for method, handler in methods.items():
                self.assertTrue(hasattr(handler, 'call_func'),
                                '%s %s' % (method, path))
