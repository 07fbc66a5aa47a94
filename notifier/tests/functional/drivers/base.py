"""Base of the drivers' functional tests: every log line at DEBUG captured,
and checked for the test's secrets when the test ends."""

import logging

import fixtures

from notifier.tests import base
from notifier.tests.unit.drivers.base import message

# Loggers whose DEBUG lines could carry a URL or a token: made to emit at
# DEBUG during the test, whatever an earlier test configured.
CHATTY_LOGGERS = ('notifier', 'urllib3', 'slack_sdk', 'requests')


class DriverTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.secrets = []
        self.outputs = []
        self.logs = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format='%(levelname)s %(name)s %(message)s'))
        for name in CHATTY_LOGGERS:
            logger = logging.getLogger(name)
            self.addCleanup(logger.setLevel, logger.level)
            logger.setLevel(logging.DEBUG)
        self.addCleanup(self._check_secrets)

    def _check_secrets(self):
        output = self.logs.output
        for secret in self.secrets:
            self.assertNotIn(secret, output, 'a secret is in the logs')
            for text in self.outputs:
                self.assertNotIn(secret, text,
                                 'a secret is in an error or a receipt')

    def keep_secret(self, *secrets):
        """Fail the test if any of ``secrets`` appears in a log line, or in
        an error or receipt passed to :meth:`seen`."""
        self.secrets.extend(secrets)

    def seen(self, outcome):
        """Record what a user sees of a delivery: a Result's receipt or a
        DeliveryError's message and receipt."""
        self.outputs.append(str(getattr(outcome, 'receipt', '')))
        if isinstance(outcome, Exception):
            self.outputs.append(str(outcome))
        return outcome

    def deliver(self, driver, settings, msg=None):
        return self.seen(driver.deliver(msg or message(), settings))

    def deliver_fails(self, error, driver, settings, msg=None):
        return self.seen(self.assertRaises(error, driver.deliver,
                                           msg or message(), settings))
