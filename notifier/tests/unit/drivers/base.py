"""Helpers of the drivers' unit tests."""

import socket

import fixtures

from notifier.api import validation
from notifier.drivers import base as drivers_base
from notifier import exception
from notifier.tests import base


def message(delivery_id='6f1c2a7e-2b1d-4c5e-9f00-1a2b3c4d5e6f', html=None,
            subject='[COMPUTE_HOST] STOPPED on compute-1'):
    """A rendered message, as the engine hands it to a driver."""
    event = {'id': 7,
             'notification_uuid': 'a0c7b8a2-1d3e-4f5a-8b9c-0d1e2f3a4b5c',
             'type': 'COMPUTE_HOST', 'hostname': 'compute-1',
             'generated_time': '2026-11-23T10:00:00.000000',
             'payload': {'event': 'STOPPED', 'host_status': 'UNKNOWN'}}
    return drivers_base.Message(
        delivery_id=delivery_id, subject=subject,
        text='Host compute-1 stopped.\nPayload: {"event": "STOPPED"}\n',
        event=event,
        event_type='org.openstack.notifier.notification.COMPUTE_HOST',
        html=html)


class DriverUnitTestCase(base.TestCase):
    """No I/O: host names resolve through ``self.dns`` (name to addresses;
    a missing name does not resolve) and no socket may connect."""

    def setUp(self):
        super().setUp()
        self.dns = {}
        self.useFixture(fixtures.MockPatch('socket.getaddrinfo',
                                           side_effect=self._getaddrinfo))
        self.useFixture(fixtures.MockPatchObject(
            socket.socket, 'connect',
            side_effect=AssertionError('a unit test tried to connect')))

    def _getaddrinfo(self, host, port, *args, **kwargs):
        if host not in self.dns:
            raise socket.gaierror(socket.EAI_NONAME, 'Name does not resolve')
        return [(socket.AF_INET6 if ':' in a else socket.AF_INET,
                 socket.SOCK_STREAM, 6, '', (a, port))
                for a in self.dns[host]]

    def validate(self, driver, settings):
        """What the API does: the driver's schema, then its own checks."""
        validation.validate(validation.validator(driver.settings_schema),
                            settings, root='settings')
        return driver.validate_settings(settings)

    def invalid(self, driver, settings):
        """The message of the ValidationError ``settings`` get."""
        return str(self.assertRaises(exception.ValidationError,
                                     self.validate, driver, settings))
