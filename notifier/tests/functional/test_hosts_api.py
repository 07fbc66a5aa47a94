"""The hosts API."""

from notifier.tests.functional import base

ADMIN = {'X-Roles': 'admin,member,reader'}


class TestHosts(base.FunctionalTestCase):
    start_engine = False

    def test_create_show_update_delete(self):
        host = self.api.post('/v1/hosts', {'host': {'name': 'compute-3'}},
                             status=201).json['host']
        self.assertFalse(host['on_maintenance'])
        self.assertEqual('demo', host['project_id'])
        shown = self.api.get('/v1/hosts/%s' % host['id']).json['host']
        self.assertEqual(host, shown)
        updated = self.api.put('/v1/hosts/%s' % host['id'], {'host': {
            'on_maintenance': True}}, headers=ADMIN).json['host']
        self.assertTrue(updated['on_maintenance'])
        self.api.delete('/v1/hosts/%s' % host['id'], headers=ADMIN,
                        status=204)
        self.api.get('/v1/hosts/%s' % host['id'], status=404)

    def test_duplicate_name_is_409(self):
        self.api.post('/v1/hosts', {'host': {'name': 'h1'}}, status=201)
        resp = self.api.post('/v1/hosts', {'host': {'name': 'h1'}},
                             status=409)
        self.assertIn('h1', resp.json['conflictingRequest']['message'])

    def test_members_cannot_change_maintenance(self):
        host = self.api.post('/v1/hosts', {'host': {'name': 'h1'}},
                             status=201).json['host']
        self.api.put('/v1/hosts/%s' % host['id'],
                     {'host': {'on_maintenance': True}}, status=403)
        self.api.put('/v1/hosts/%s' % host['id'],
                     {'host': {'on_maintenance': True}},
                     headers={'X-Roles': 'service'}, status=200)

    def test_empty_update_is_400(self):
        host = self.api.post('/v1/hosts', {'host': {'name': 'h1'}},
                             status=201).json['host']
        self.api.put('/v1/hosts/%s' % host['id'], {'host': {}},
                     headers=ADMIN, status=400)

    def test_filter_by_maintenance(self):
        self.api.post('/v1/hosts', {'host': {'name': 'up'}}, status=201)
        self.api.post('/v1/hosts', {'host': {'name': 'down',
                                             'on_maintenance': True}},
                      status=201)
        names = [h['name'] for h in self.api.get(
            '/v1/hosts?on_maintenance=true').json['hosts']]
        self.assertEqual(['down'], names)

    def test_other_projects_host_is_404(self):
        host = self.api.post('/v1/hosts', {'host': {'name': 'h1'}},
                             status=201).json['host']
        self.api.get('/v1/hosts/%s' % host['id'],
                     headers={'X-Auth-Token': 'bob:other'}, status=404)
