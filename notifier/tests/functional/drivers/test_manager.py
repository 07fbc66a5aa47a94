from notifier.drivers import base as drivers_base
from notifier.tests.functional.drivers import base


class TestInstalledDrivers(base.DriverTestCase):

    def test_every_medium_is_installed_as_an_entry_point(self):
        manager = drivers_base.DriverManager(self.conf)
        self.addCleanup(manager.close)
        self.assertEqual(['email', 'log', 'msteams', 'slack', 'sms',
                          'webhook'], manager.names)
        self.assertNotIn('could not be loaded', self.logs.output)
