"""Destinations, subscriptions and routing (microversion 1.5)."""

from notifier.tests.functional import base

V1_5 = {'OpenStack-API-Version': 'notification 1.5'}
OTHER = dict(V1_5, **{'X-Auth-Token': 'bob:other'})


class DestinationsTestCase(base.FunctionalTestCase):

    def create_destination(self, name='ops-log', medium='log', settings=None,
                           headers=V1_5, status=201):
        body = {'destination': {'name': name, 'medium': medium}}
        if settings is not None:
            body['destination']['settings'] = settings
        resp = self.api.post('/v1/destinations', body, headers=headers,
                             status=status)
        return resp.json.get('destination', resp.json)

    def subscribe(self, destinations, filters=None, headers=V1_5,
                  status=201):
        body = {'subscription': {'name': 'all', 'destinations': destinations}}
        if filters is not None:
            body['subscription']['filters'] = filters
        resp = self.api.post('/v1/subscriptions', body, headers=headers,
                             status=status)
        return resp.json.get('subscription', resp.json)


class TestDestinations(DestinationsTestCase):
    start_engine = False

    def test_crud(self):
        created = self.create_destination()
        self.assertEqual('log', created['medium'])
        self.assertEqual('alice', created['user_id'])
        self.assertEqual([], created['secrets_set'])
        url = '/v1/destinations/%s' % created['id']
        self.assertEqual(created, self.api.get(url, headers=V1_5).json[
            'destination'])
        updated = self.api.put(url, {'destination': {'enabled': False}},
                               headers=V1_5).json['destination']
        self.assertFalse(updated['enabled'])
        self.assertEqual([created['id']], [d['id'] for d in self.api.get(
            '/v1/destinations?enabled=false', headers=V1_5).json[
                'destinations']])
        self.api.delete(url, headers=V1_5, status=204)
        self.api.get(url, headers=V1_5, status=404)

    def test_not_there_before_1_5(self):
        self.api.get('/v1/destinations', status=404)

    def test_unknown_medium_is_400_listing_the_installed_ones(self):
        error = self.create_destination(medium='pigeon', status=400)
        self.assertIn('No delivery driver named pigeon',
                      error['badRequest']['message'])
        self.assertIn('log', error['badRequest']['message'])

    def test_settings_are_checked_against_the_drivers_schema(self):
        error = self.create_destination(settings={'colour': 'red'},
                                        status=400)
        message = error['badRequest']['message']
        self.assertIn('destination.settings', message)
        self.assertIn("'colour' was unexpected", message)

    def test_other_projects_destination_is_404(self):
        created = self.create_destination()
        self.api.get('/v1/destinations/%s' % created['id'], headers=OTHER,
                     status=404)
        self.assertEqual([], self.api.get('/v1/destinations',
                                          headers=OTHER).json['destinations'])

    def test_reader_cannot_create(self):
        self.create_destination(headers=dict(V1_5, **{'X-Roles': 'reader'}),
                                status=403)

    def test_test_send_delivers_now(self):
        created = self.create_destination()
        result = self.api.post('/v1/destinations/%s/test' % created['id'],
                               {}, headers=V1_5).json['test']
        self.assertEqual('delivered', result['outcome'])
        self.assertIn('logged', result['receipt'])


class TestSubscriptions(DestinationsTestCase):
    start_engine = False

    def test_crud(self):
        destination = self.create_destination()
        created = self.subscribe([destination['id']],
                                 filters={'types': ['VM']})
        self.assertEqual([destination['id']], created['destinations'])
        url = '/v1/subscriptions/%s' % created['id']
        updated = self.api.put(url, {'subscription': {'filters': {}}},
                               headers=V1_5).json['subscription']
        self.assertEqual({}, updated['filters'])
        self.assertEqual(1, len(self.api.get(
            '/v1/subscriptions', headers=V1_5).json['subscriptions']))
        self.api.delete(url, headers=V1_5, status=204)
        self.api.get(url, headers=V1_5, status=404)

    def test_another_projects_destination_cannot_be_used(self):
        theirs = self.create_destination(headers=OTHER)
        error = self.subscribe([theirs['id']], status=404)
        self.assertIn(theirs['id'], error['itemNotFound']['message'])

    def test_deleting_a_destination_removes_it_from_subscriptions(self):
        destination = self.create_destination()
        created = self.subscribe([destination['id']])
        self.api.delete('/v1/destinations/%s' % destination['id'],
                        headers=V1_5, status=204)
        self.assertEqual([], self.api.get(
            '/v1/subscriptions/%s' % created['id'], headers=V1_5).json[
                'subscription']['destinations'])

    def test_unknown_filter_is_400(self):
        destination = self.create_destination()
        error = self.subscribe([destination['id']],
                               filters={'colours': ['red']}, status=400)
        self.assertIn("'colours' was unexpected",
                      error['badRequest']['message'])


class TestRouting(DestinationsTestCase):

    def deliveries(self, notification_id):
        shown = self.wait_for_status(notification_id,
                                     ['finished', 'ignored', 'failed'])
        full = self.api.get('/v1/notifications/%s' % notification_id,
                            headers=V1_5).json['notification']
        self.assertEqual(shown['status'], full['status'])
        return {d['target']: d for d in full['deliveries']}

    def test_matching_subscription_adds_a_delivery_per_destination(self):
        ops = self.create_destination(name='ops')
        oncall = self.create_destination(name='oncall')
        self.subscribe([ops['id'], oncall['id']],
                       filters={'types': ['COMPUTE_HOST'],
                                'events': ['STOPPED']})
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        deliveries = self.deliveries(created['id'])
        self.assertEqual({'default:log', 'destination:%s' % ops['id'],
                          'destination:%s' % oncall['id']},
                         set(deliveries))
        mine = deliveries['destination:%s' % ops['id']]
        self.assertEqual(ops['id'], mine['destination_id'])
        self.assertEqual('delivered', mine['status'])
        self.assertEqual(1, len(mine['attempt_history']))
        self.assertEqual('delivered', mine['attempt_history'][0]['outcome'])

    def test_filters_that_do_not_match_add_nothing(self):
        ops = self.create_destination()
        self.subscribe([ops['id']], filters={'hostnames': ['elsewhere']})
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        self.assertEqual({'default:log'}, set(self.deliveries(created['id'])))

    def test_disabled_subscription_or_destination_adds_nothing(self):
        ops = self.create_destination()
        sub = self.subscribe([ops['id']])
        self.api.put('/v1/subscriptions/%s' % sub['id'],
                     {'subscription': {'enabled': False}}, headers=V1_5)
        created = self.api.post('/v1/notifications', base.notification_body(
            hostname='h1'), status=202).json['notification']
        self.assertEqual({'default:log'}, set(self.deliveries(created['id'])))
        self.api.put('/v1/subscriptions/%s' % sub['id'],
                     {'subscription': {'enabled': True}}, headers=V1_5)
        self.api.put('/v1/destinations/%s' % ops['id'],
                     {'destination': {'enabled': False}}, headers=V1_5)
        created = self.api.post('/v1/notifications', base.notification_body(
            hostname='h2'), status=202).json['notification']
        self.assertEqual({'default:log'}, set(self.deliveries(created['id'])))

    def test_other_projects_subscriptions_do_not_apply(self):
        theirs = self.create_destination(headers=OTHER)
        self.subscribe([theirs['id']], headers=OTHER)
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        self.assertEqual({'default:log'}, set(self.deliveries(created['id'])))

    def test_only_subscriptions_with_no_defaults_and_no_match_is_ignored(self):
        self.flags(default_destinations=[], group='engine')
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        self.assertEqual({}, self.deliveries(created['id']))
        self.assertEqual('ignored', self.api.get(
            '/v1/notifications/%d' % created['id']).json['notification'][
                'status'])
