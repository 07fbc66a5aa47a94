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
