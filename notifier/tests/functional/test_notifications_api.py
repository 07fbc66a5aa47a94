"""The notifications API as masakari clients use it."""

from unittest import mock

from oslo_serialization import jsonutils

from notifier.tests.functional import base

V1_1 = {'OpenStack-API-Version': 'notification 1.1'}


class TestCreate(base.FunctionalTestCase):
    start_engine = False

    def test_created_record_has_masakari_fields(self):
        body = self.api.post('/v1/notifications', base.notification_body(
            type_='VM'), status=202).json['notification']
        for field in ('id', 'notification_uuid', 'source_host_uuid', 'type',
                      'generated_time', 'payload', 'status', 'created_at',
                      'updated_at', 'deleted'):
            self.assertIn(field, body)
        self.assertEqual('new', body['status'])
        self.assertEqual('VM', body['type'])
        self.assertFalse(body['deleted'])

    def test_masakari_time_format_is_accepted_and_normalised(self):
        body = self.api.post('/v1/notifications', base.notification_body(
            generated_time='2017-04-24 08:34:46'), status=202).json
        self.assertEqual('2017-04-24T08:34:46.000000',
                         body['notification']['generated_time'])

    def test_time_with_an_offset_is_stored_in_utc(self):
        body = self.api.post('/v1/notifications', base.notification_body(
            generated_time='2017-04-24T10:34:46+02:00'), status=202).json
        self.assertEqual('2017-04-24T08:34:46.000000',
                         body['notification']['generated_time'])

    def test_bad_payload_is_400_naming_the_field(self):
        resp = self.api.post('/v1/notifications', base.notification_body(
            payload={'event': 'EXPLODED'}), status=400)
        message = resp.json['badRequest']['message']
        self.assertIn('notification.payload.event', message)
        self.assertIn('STARTED', message)
        self.assertEqual(400, resp.json['badRequest']['code'])
        self.assertTrue(resp.json['badRequest']['request_id'].startswith(
            'req-'))

    def test_missing_field_is_400(self):
        body = base.notification_body()
        del body['notification']['generated_time']
        resp = self.api.post('/v1/notifications', body, status=400)
        self.assertIn("'generated_time' is a required property",
                      resp.json['badRequest']['message'])

    def test_malformed_json_is_400_and_stores_nothing(self):
        resp = self.api.app.post(
            '/v1/notifications', '{"notification": ', headers=dict(
                self.api.headers, **{'Content-Type': 'application/json'}),
            status=400)
        self.assertIn('Malformed JSON', resp.json['badRequest']['message'])
        self.assertEqual([], self.api.get('/v1/notifications').json[
            'notifications'])

    def test_wrong_content_type_is_415(self):
        resp = self.api.app.post('/v1/notifications', 'type=VM',
                                 headers=dict(self.api.headers, **{
                                     'Content-Type': 'text/plain'}),
                                 status=415)
        self.assertIn('application/json',
                      resp.json['badMediaType']['message'])

    def test_oversized_body_is_413(self):
        body = base.notification_body(payload={
            'event': 'STOPPED', 'process_name': 'p' * 200000})
        self.api.post('/v1/notifications', body, status=413)

    def test_duplicate_within_window_is_409(self):
        self.api.post('/v1/notifications', base.notification_body(),
                      status=202)
        resp = self.api.post('/v1/notifications', base.notification_body(),
                             status=409)
        self.assertIn('duplicate',
                      resp.json['conflictingRequest']['message'])
        self.assertEqual(1, len(self.api.get('/v1/notifications').json[
            'notifications']))

    def test_same_event_on_another_host_is_not_a_duplicate(self):
        self.api.post('/v1/notifications', base.notification_body(),
                      status=202)
        self.api.post('/v1/notifications', base.notification_body(
            hostname='compute-2'), status=202)

    def test_same_payload_in_another_project_is_not_a_duplicate(self):
        self.api.post('/v1/notifications', base.notification_body(),
                      status=202)
        self.api.post('/v1/notifications', base.notification_body(),
                      headers={'X-Auth-Token': 'bob:other'}, status=202)

    def test_duplicate_detection_can_be_turned_off(self):
        self.flags(duplicate_notification_detection_interval=0, group='api')
        self.api.post('/v1/notifications', base.notification_body(),
                      status=202)
        self.api.post('/v1/notifications', base.notification_body(),
                      status=202)

    def test_unknown_host_is_registered(self):
        created = self.api.post('/v1/notifications', base.notification_body(
            hostname='new-host'), status=202).json['notification']
        hosts = self.api.get('/v1/hosts?name=new-host').json['hosts']
        self.assertEqual(1, len(hosts))
        self.assertEqual(created['source_host_uuid'], hosts[0]['id'])

    def test_unknown_host_is_400_when_registration_is_off(self):
        self.flags(auto_register_hosts=False, group='api')
        resp = self.api.post('/v1/notifications', base.notification_body(
            hostname='stranger'), status=400)
        self.assertIn('POST /v1/hosts', resp.json['badRequest']['message'])

    def test_host_on_maintenance_is_409_until_it_is_back(self):
        host = self.api.post('/v1/hosts', {'host': {
            'name': 'compute-1', 'on_maintenance': True}},
            status=201).json['host']
        resp = self.api.post('/v1/notifications', base.notification_body(),
                             status=409)
        message = resp.json['conflictingRequest']['message']
        self.assertIn('maintenance', message)
        self.assertIn(host['id'], message)
        self.api.put('/v1/hosts/%s' % host['id'],
                     {'host': {'on_maintenance': False}},
                     headers={'X-Roles': 'admin,member,reader'}, status=200)
        self.api.post('/v1/notifications', base.notification_body(),
                      status=202)

    def test_project_id_in_the_url_is_served(self):
        self.api.post('/v1/demo/notifications', base.notification_body(),
                      status=202)
        self.assertEqual(1, len(self.api.get('/v1/demo/notifications').json[
            'notifications']))

    def test_another_projects_url_is_404(self):
        self.api.post('/v1/other/notifications', base.notification_body(),
                      status=404)
        self.api.get('/v1/other/notifications', status=404)

    def test_put_and_delete_are_405_with_allow(self):
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        for method in ('put', 'delete'):
            resp = getattr(self.api.app, method)(
                '/v1/notifications/%s' % created['id'],
                headers=self.api.headers, status=405)
            self.assertEqual('GET', resp.headers['Allow'])
        resp = self.api.app.delete('/v1/notifications',
                                   headers=self.api.headers, status=405)
        self.assertEqual('GET, POST', resp.headers['Allow'])

    def test_unexpected_error_is_500_with_request_id_and_no_traceback(self):
        with mock.patch('notifier.db.api.notification_create_on_host',
                        side_effect=RuntimeError('secret internals')):
            resp = self.api.post('/v1/notifications',
                                 base.notification_body(), status=500)
        fault = resp.json['internalError']
        self.assertTrue(fault['request_id'].startswith('req-'))
        self.assertEqual(fault['request_id'],
                         resp.headers['X-OpenStack-Request-ID'])
        self.assertNotIn('secret internals', resp.text)
        self.assertNotIn('Traceback', resp.text)


class TestListAndShow(base.FunctionalTestCase):
    start_engine = False

    def _post(self, n, type_='PROCESS', **kwargs):
        created = []
        for i in range(n):
            body = base.notification_body(type_=type_, payload={
                'event': 'STOPPED', 'process_name': 'p%d' % i}, **kwargs)
            created.append(self.api.post('/v1/notifications', body,
                                         status=202).json['notification'])
        return created

    def test_show_by_integer_id_or_uuid(self):
        created = self._post(1)[0]
        by_id = self.api.get('/v1/notifications/%d' % created['id']).json
        by_uuid = self.api.get('/v1/notifications/%s' %
                               created['notification_uuid']).json
        self.assertEqual(by_id, by_uuid)
        self.assertEqual(created['notification_uuid'],
                         by_id['notification']['notification_uuid'])

    def test_recovery_workflow_details_only_from_1_1(self):
        created = self._post(1)[0]
        url = '/v1/notifications/%d' % created['id']
        old = self.api.get(url)
        self.assertNotIn('recovery_workflow_details', old.json['notification'])
        self.assertEqual('notification 1.0',
                         old.headers['OpenStack-API-Version'])
        new = self.api.get(url, headers={
            'OpenStack-API-Version': 'instance-ha 1.1'})
        self.assertEqual([], new.json['notification'][
            'recovery_workflow_details'])
        self.assertEqual('instance-ha 1.1',
                         new.headers['OpenStack-API-Version'])
        self.assertIn('OpenStack-API-Version', new.headers['Vary'])

    def test_unsupported_version_is_406_and_malformed_is_400(self):
        self.api.get('/v1/notifications', headers={
            'OpenStack-API-Version': 'notification 1.999'}, status=406)
        self.api.get('/v1/notifications', headers={
            'OpenStack-API-Version': 'notification x'}, status=400)

    def test_unknown_notification_is_404(self):
        self.api.get('/v1/notifications/9999', status=404)
        self.api.get('/v1/notifications/'
                     '7b6e1f4a-3c1d-4d5e-8f9a-0b1c2d3e4f5a', status=404)
        self.api.get('/v1/notifications/not-an-id', status=404)

    def test_another_projects_notification_is_404_for_members(self):
        created = self._post(1)[0]
        self.api.get('/v1/notifications/%d' % created['id'],
                     headers={'X-Auth-Token': 'bob:other'}, status=404)
        self.assertEqual([], self.api.get('/v1/notifications', headers={
            'X-Auth-Token': 'bob:other'}).json['notifications'])

    def test_admin_sees_all_projects_only_when_asked(self):
        self._post(1)
        admin = {'X-Auth-Token': 'root:ops', 'X-Roles': 'admin,member,reader'}
        self.assertEqual([], self.api.get('/v1/notifications',
                                          headers=admin).json['notifications'])
        everything = self.api.get('/v1/notifications?all_projects=true',
                                  headers=admin).json['notifications']
        self.assertEqual(['demo'], [n['project_id'] for n in everything])
        narrowed = self.api.get('/v1/notifications?project_id=nobody',
                                headers=admin).json['notifications']
        self.assertEqual([], narrowed)

    def test_filters(self):
        self._post(2, type_='PROCESS')
        vm = self.api.post('/v1/notifications', base.notification_body(
            type_='VM', hostname='compute-9'), status=202).json[
                'notification']
        def ids(query):
            return sorted(n['id'] for n in self.api.get(
                '/v1/notifications' + query).json['notifications'])
        self.assertEqual([vm['id']], ids('?type=VM'))
        self.assertEqual([vm['id']], ids('?source_host_uuid=%s' %
                                         vm['source_host_uuid']))
        self.assertEqual(3, len(ids('?status=new')))
        self.assertEqual([], ids('?status=finished'))
        self.assertEqual(3, len(ids('?generated-since=2026-11-23T09:00:00')))
        self.assertEqual([], ids('?generated_since=2026-11-23T11:00:00'))

    def test_bad_filter_is_400_naming_the_parameter(self):
        resp = self.api.get('/v1/notifications?status=lost', status=400)
        self.assertIn('status', resp.json['badRequest']['message'])
        resp = self.api.get('/v1/notifications?colour=red', status=400)
        self.assertIn("'colour' was unexpected",
                      resp.json['badRequest']['message'])

    def test_pages_by_limit_and_integer_marker_cover_every_row_once(self):
        created = self._post(7)
        for sort in ('', '&sort_key=type&sort_dir=asc',
                     '&sort_key=created_at&sort_dir=desc'):
            seen, marker = [], None
            for _ in range(10):
                query = '?limit=3' + sort + (
                    '&marker=%d' % marker if marker else '')
                page = self.api.get('/v1/notifications' + query).json[
                    'notifications']
                self.assertLessEqual(len(page), 3)
                if not page:
                    break
                seen.extend(n['id'] for n in page)
                marker = page[-1]['id']
            self.assertEqual(sorted(n['id'] for n in created), sorted(seen),
                             sort)
            self.assertEqual(len(seen), len(set(seen)))

    def test_default_order_is_newest_first(self):
        created = self._post(3)
        listed = self.api.get('/v1/notifications').json['notifications']
        self.assertEqual([n['id'] for n in reversed(created)],
                         [n['id'] for n in listed])

    def test_unknown_marker_is_400(self):
        resp = self.api.get('/v1/notifications?marker=4242', status=400)
        self.assertIn('marker', resp.json['badRequest']['message'])

    def test_list_body_is_the_show_views_as_the_api_encodes_them(self):
        # The list writes its JSON itself; its bytes are those of the
        # show view (1.0) of each notification, at every microversion.
        created = self._post(3)
        shows = [self.api.get('/v1/notifications/%d' % n['id']).json[
            'notification'] for n in reversed(created)]
        expected = jsonutils.dumps({'notifications': shows}).encode()
        for version in (None, '1.0', '1.5', '1.7'):
            headers = {'OpenStack-API-Version': 'notification %s' % version
                       } if version else {}
            resp = self.api.get('/v1/notifications', headers=headers)
            self.assertEqual(expected, resp.body)
            self.assertEqual('application/json', resp.headers['Content-Type'])
            self.assertEqual(str(len(expected)),
                             resp.headers['Content-Length'])
            self.assertEqual('notification %s' % (version or '1.0'),
                             resp.headers['OpenStack-API-Version'])
        page = self.api.get('/v1/notifications?limit=2&sort_key=id'
                            '&sort_dir=asc&marker=%d' % created[0]['id'])
        self.assertEqual(jsonutils.dumps({'notifications': shows[1::-1]}),
                         page.text)


class TestVersions(base.FunctionalTestCase):
    start_engine = False

    def test_root_lists_v1_with_microversions(self):
        versions = self.api.app.get('/').json['versions']
        self.assertEqual(1, len(versions))
        self.assertEqual('1.0', versions[0]['min_version'])
        self.assertGreaterEqual(tuple(map(int, versions[0]['version'].split(
            '.'))), (1, 3))

    def test_v1_document(self):
        for path in ('/v1', '/v1/'):
            version = self.api.app.get(path).json['version']
            self.assertEqual('v1.0', version['id'])
            self.assertEqual('CURRENT', version['status'])

    def test_healthcheck(self):
        self.assertEqual('OK', self.api.app.get('/healthcheck').text)

    def test_unknown_path_is_404_json(self):
        resp = self.api.get('/v2/things', status=404)
        self.assertIn('itemNotFound', resp.json)


class TestCreateForProject(base.FunctionalTestCase):
    start_engine = False
    V1_4 = {'OpenStack-API-Version': 'notification 1.4'}

    def _body(self, project_id):
        body = base.notification_body()
        body['notification']['project_id'] = project_id
        return body

    def test_service_user_posts_for_the_hosts_project(self):
        service = dict(self.V1_4, **{'X-Auth-Token': 'monitor:service',
                                     'X-Roles': 'service'})
        created = self.api.post('/v1/notifications', self._body('demo'),
                                headers=service, status=202).json[
                                    'notification']
        self.assertEqual('demo', created['project_id'])
        # The tenant sees it, and its host was registered in its project.
        self.assertEqual([created['id']], [n['id'] for n in self.api.get(
            '/v1/notifications').json['notifications']])
        self.assertEqual(['compute-1'], [h['name'] for h in self.api.get(
            '/v1/hosts').json['hosts']])

    def test_member_cannot_post_for_another_project(self):
        self.api.post('/v1/notifications', self._body('other'),
                      headers=self.V1_4, status=403)
        self.assertEqual([], self.api.get('/v1/notifications', headers={
            'X-Auth-Token': 'bob:other'}).json['notifications'])

    def test_member_may_name_its_own_project(self):
        self.api.post('/v1/notifications', self._body('demo'),
                      headers=self.V1_4, status=202)

    def test_project_id_is_unknown_before_1_4(self):
        resp = self.api.post('/v1/notifications', self._body('demo'),
                             headers={'X-Roles': 'service'}, status=400)
        self.assertIn("'project_id' was unexpected",
                      resp.json['badRequest']['message'])
