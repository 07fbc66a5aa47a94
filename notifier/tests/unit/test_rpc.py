"""notifier.rpc with a ConfigOpts of its own, as tools and tests build."""

import time

from oslo_config import cfg
import oslo_messaging as messaging

from notifier import rpc
from notifier.tests import base


class TestPrivateConfig(base.TestCase):

    def test_a_cast_and_its_delivery_with_a_private_config(self):
        conf = cfg.ConfigOpts()
        rpc.set_transport_default(conf, 'fake:/')
        conf([], project='notifier', default_config_files=[])
        self.addCleanup(rpc.cleanup)
        rpc.cleanup()  # a transport another test made is not ours
        received = []

        class Endpoint:
            target = messaging.Target(version='1.0')

            def hello(self, ctxt, name):
                received.append(name)
                return 'hi %s' % name

        server = rpc.get_server(conf, messaging.Target(
            topic='private-conf', server='here'), [Endpoint()])
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        client = rpc.get_client(conf, messaging.Target(topic='private-conf'),
                                timeout=10)
        self.assertEqual('hi call', client.call({}, 'hello', name='call'))
        client.cast({}, 'hello', name='cast')
        deadline = time.monotonic() + 10
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(['call', 'cast'], received)
