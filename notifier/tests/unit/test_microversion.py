from unittest import mock

import microversion_parse
import webob

from notifier.api import microversion
from notifier import exception
from notifier.tests import base


class TestExtract(base.TestCase):

    def test_no_header_is_the_minimum(self):
        version, service_type = microversion.extract({})
        self.assertEqual('1.0', str(version))
        self.assertEqual('notification', service_type)

    def test_masakari_service_type_is_honoured(self):
        version, service_type = microversion.extract(
            {'OpenStack-API-Version': 'instance-ha 1.1'})
        self.assertEqual('1.1', str(version))
        self.assertEqual('instance-ha', service_type)

    def test_latest_is_the_maximum(self):
        version, _ = microversion.extract(
            {'OpenStack-API-Version': 'notification latest'})
        self.assertEqual(microversion.VERSIONS[-1], str(version))

    def test_maximum_is_at_least_1_3_for_masakari_clients(self):
        self.assertGreaterEqual(microversion.MAX_VERSION, (1, 3))
        self.assertEqual('1.0', str(microversion.MIN_VERSION))

    def test_other_service_types_are_ignored(self):
        version, _ = microversion.extract(
            {'OpenStack-API-Version': 'compute 2.90'})
        self.assertEqual('1.0', str(version))

    def test_malformed_version_names_the_expected_form(self):
        error = self.assertRaises(
            exception.ValidationError, microversion.extract,
            {'OpenStack-API-Version': 'notification one'})
        self.assertIn('notification X.Y', str(error))

    def test_unsupported_version_is_not_acceptable(self):
        error = self.assertRaises(
            microversion.VersionNotAcceptable, microversion.extract,
            {'OpenStack-API-Version': 'notification 1.99'})
        self.assertIn('maximum is %s' % microversion.VERSIONS[-1], str(error))


class TestRequestHeaders(base.TestCase):
    """A request's headers give the answer a plain mapping of them gives,
    while only the one header is read."""

    VALUES = [None, 'notification 1.5', 'instance-ha 1.1',
              'compute 2.90, instance-ha 1.2', 'notification latest',
              'instance-ha 1.1, notification 1.3', 'compute 2.1']

    def test_request_headers_read_like_a_mapping(self):
        for value in self.VALUES:
            headers = {} if value is None else {
                'OpenStack-API-Version': value}
            req = webob.Request.blank('/', headers=headers)
            self.assertEqual(microversion.extract(headers),
                             microversion.extract(req.headers), value)
            self.assertEqual(microversion.service_type(headers),
                             microversion.service_type(req.headers), value)

    def test_other_headers_of_a_request_are_not_copied(self):
        req = webob.Request.blank('/', headers={
            'OpenStack-API-Version': 'instance-ha 1.2', 'X-Other': 'x'})
        with mock.patch.object(microversion_parse, 'fold_headers',
                               wraps=microversion_parse.fold_headers) as fold:
            self.assertEqual(((1, 2), 'instance-ha'),
                             microversion.extract(req.headers))
        for call in fold.call_args_list:
            self.assertEqual({'openstack-api-version': 'instance-ha 1.2'},
                             dict(call.args[0]))

    def test_bad_version_in_a_request_is_refused(self):
        req = webob.Request.blank('/', headers={
            'OpenStack-API-Version': 'notification 1.99'})
        self.assertRaises(microversion.VersionNotAcceptable,
                          microversion.extract, req.headers)


class TestIsSupported(base.TestCase):

    def _req(self, version):
        req = webob.Request.blank('/')
        req.environ[microversion.ENV_KEY] = (
            microversion_parse.parse_version_string(version), 'notification')
        return req

    def test_bounds_are_inclusive(self):
        for version, expected in (('1.3', False), ('1.4', True),
                                  ('1.5', True), ('1.6', True),
                                  ('1.7', False)):
            self.assertEqual(expected, microversion.is_supported(
                self._req(version), min_version='1.4', max_version='1.6'),
                version)
        self.assertTrue(microversion.is_supported(self._req('1.0')))
