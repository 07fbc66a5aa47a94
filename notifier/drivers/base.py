"""The contract every delivery driver implements.

A driver is loaded once per engine through the ``notifier.drivers``
stevedore namespace and instantiated with the service's ConfigOpts. It
publishes a JSON schema for a destination's settings (validated by the API
when a destination is created), the names of the settings that are secrets
(write-only in the API, encrypted at rest, never logged), and
:meth:`Driver.deliver`, which sends one message and returns a
:class:`Result` or raises :class:`notifier.exception.RetryableDeliveryError`
(the attempt may succeed later) or
:class:`notifier.exception.PermanentDeliveryError` (it never will).
"""

import abc
import dataclasses

from oslo_log import log as logging
import stevedore
import stevedore.extension

from notifier import exception

LOG = logging.getLogger(__name__)
NAMESPACE = 'notifier.drivers'


@dataclasses.dataclass(frozen=True)
class Message:
    """What to deliver, already rendered; the same for every medium."""

    #: The delivery's uuid: stable across attempts, for deduplication.
    delivery_id: str
    #: The rendered subject and plain-text body; None for a notification
    #: to a driver that does not render (see :attr:`Driver.renders`).
    subject: str | None
    text: str | None
    #: The source event as primitives (the notification's API view).
    event: dict
    #: The CloudEvents-style type, such as
    #: ``org.openstack.notifier.notification.COMPUTE_HOST``.
    event_type: str
    html: str | None = None
    #: The template that rendered the message and its version, for the
    #: delivery ledger; None for a message not rendered from a template.
    template: str | None = None
    template_version: int | None = None
    #: Addressing a template sets for email: a dict with any of ``from``,
    #: ``reply_to`` (strings), ``to``, ``cc``, ``bcc`` (lists of
    #: addresses), ``charset`` (a body charset other than utf-8). A key
    #: that is absent keeps the destination's own.
    addressing: dict | None = None


@dataclasses.dataclass(frozen=True)
class Result:
    """A successful delivery: what the receiving side answered."""

    #: The receipt, such as an SMTP reply or an HTTP status and id.
    receipt: str
    #: Who received it, for the ledger: email addresses, a phone number,
    #: a Slack channel, a URL without its query string. Never a secret.
    recipients: tuple = ()


class Driver(metaclass=abc.ABCMeta):
    #: JSON schema of a destination's ``settings`` for this medium.
    settings_schema = {'type': 'object', 'properties': {},
                       'additionalProperties': False}
    #: Settings that are secrets.
    secret_settings = ()
    #: Whether the driver sends the rendered subject and bodies. A driver
    #: that sends the notification itself (``webhook``) says False: its
    #: deliveries of notifications are not rendered, so a template cannot
    #: fail them, and the ledger records no subject, bodies or template.
    renders = True

    def __init__(self, conf):
        self.conf = conf

    def validate_settings(self, settings):
        """Check what a JSON schema cannot (an address's syntax, a
        network); return the settings, normalised. Raise
        :class:`exception.ValidationError` naming the field."""
        return settings

    def check_configured(self):
        """Raise :class:`exception.Invalid` naming the missing option if
        the operator has not configured this driver."""

    @abc.abstractmethod
    def deliver(self, message, settings):
        """Send ``message`` to the destination described by ``settings``.

        :returns: :class:`Result`
        :raises: :class:`exception.RetryableDeliveryError`,
                 :class:`exception.PermanentDeliveryError`
        """

    def close(self):
        """Release connections at engine shutdown."""


class DriverManager:
    """The installed drivers, each loaded and instantiated once.

    ``drivers`` (name to driver object) replaces the installed ones, for
    tests.
    """

    def __init__(self, conf, drivers=None):
        if drivers is not None:
            self._manager = stevedore.ExtensionManager.make_test_instance([
                stevedore.extension.Extension(name, None, type(obj), obj)
                for name, obj in drivers.items()], namespace=NAMESPACE)
            return
        self._manager = stevedore.ExtensionManager(
            NAMESPACE, invoke_on_load=True, invoke_args=(conf,),
            on_load_failure_callback=self._load_failed)

    @staticmethod
    def _load_failed(manager, entrypoint, error):
        LOG.error('Delivery driver %(name)s could not be loaded and is '
                  'unavailable: %(error)s',
                  {'name': entrypoint.name, 'error': error})

    @property
    def names(self):
        return sorted(self._manager.names())

    def get(self, name):
        try:
            return self._manager[name].obj
        except KeyError:
            raise exception.DriverNotFound(
                name=name, available=', '.join(self.names) or 'none')

    def close(self):
        for extension in self._manager:
            extension.obj.close()
