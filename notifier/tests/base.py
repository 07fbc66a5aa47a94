"""The base test case: Notifier's options on the global CONF, reset after
every test, and policy rules reloaded."""

import fixtures
from oslo_config import fixture as config_fixture
from oslo_log import log as logging
from oslotest import base

from notifier import conf as notifier_conf
from notifier.conf import opts
from notifier import policy
from notifier import rpc

CONF = notifier_conf.CONF
_PREPARED = False


def prepare_conf():
    global _PREPARED
    if not _PREPARED:
        logging.register_options(CONF)
        opts.set_defaults(CONF)
        rpc.set_transport_default(CONF, 'fake://')
        _PREPARED = True
    CONF([], project='notifier', default_config_files=[])


class TestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        prepare_conf()
        self.conf_fixture = self.useFixture(config_fixture.Config(CONF))
        self.conf = CONF
        # Nothing a test does may write to /var/lib/notifier.
        self.flags(state_path=self.useFixture(fixtures.TempDir()).path)
        self.addCleanup(policy.reset)

    def flags(self, group=None, **kwargs):
        self.conf_fixture.config(group=group, **kwargs)
