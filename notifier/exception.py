"""Notifier's domain exceptions.

They say what went wrong and how to fix it, in words a user can act on. The
API maps the base classes to HTTP status codes in one place
(:mod:`notifier.api.wsgi`); nothing below the API knows about HTTP.
"""


class NotifierException(Exception):
    msg_fmt = 'An unknown error occurred.'

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            message = self.msg_fmt % kwargs
        super().__init__(message)

    @property
    def message(self):
        return str(self)


class Invalid(NotifierException):
    msg_fmt = 'Invalid input: %(reason)s'


class ValidationError(Invalid):
    msg_fmt = '%(detail)s'


class InvalidSortKey(Invalid):
    msg_fmt = ('Cannot sort by %(key)s; sort_key must be one of: '
               '%(allowed)s.')


class MarkerNotFound(Invalid):
    msg_fmt = ('The marker %(marker)s is not the id of a %(resource)s '
               'visible to you; pass the id of the last item of the '
               'previous page.')


class HostNotRegistered(Invalid):
    msg_fmt = ('Host %(hostname)s is not registered in this project. '
               'Register it with POST /v1/hosts first (automatic '
               'registration is turned off by the operator).')


class NotFound(NotifierException):
    msg_fmt = 'Resource could not be found.'


class NotificationNotFound(NotFound):
    msg_fmt = 'No notification with id %(id)s was found.'


class HostNotFound(NotFound):
    msg_fmt = 'No host with id %(id)s was found.'


class DestinationNotFound(NotFound):
    msg_fmt = 'No destination with id %(id)s was found in your project.'


class SubscriptionNotFound(NotFound):
    msg_fmt = 'No subscription with id %(id)s was found in your project.'


class ProjectNotFound(NotFound):
    msg_fmt = ('Project %(project_id)s in the URL is not the project of '
               'your token; use /v1/... or your own project id.')


class Conflict(NotifierException):
    msg_fmt = 'The request conflicts with the current state.'


class DuplicateNotification(Conflict):
    msg_fmt = ('A notification with the same type, host and payload was '
               'accepted less than %(interval)s seconds ago; this one is a '
               'duplicate and was not stored.')


class HostOnMaintenance(Conflict):
    msg_fmt = ('Host %(hostname)s is on maintenance, so notifications for '
               'it are refused. Set on_maintenance to false with '
               'PUT /v1/hosts/%(host_id)s to accept them again.')


class HostExists(Conflict):
    msg_fmt = 'A host named %(name)s already exists in this project.'


class Forbidden(NotifierException):
    msg_fmt = 'Policy does not allow %(action)s to be performed.'


class PolicyNotAuthorized(Forbidden):
    pass


class DriverNotFound(Invalid):
    msg_fmt = ('No delivery driver named %(name)s is installed; the ones '
               'installed are: %(available)s.')


class DeliveryError(NotifierException):
    """A delivery attempt failed; ``retryable`` says if it may succeed later.

    Drivers raise :class:`RetryableDeliveryError` or
    :class:`PermanentDeliveryError`.
    """

    retryable = False
    msg_fmt = '%(reason)s'

    def __init__(self, message=None, retry_after=None, receipt=None,
                 **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.receipt = receipt


class RetryableDeliveryError(DeliveryError):
    retryable = True


class PermanentDeliveryError(DeliveryError):
    retryable = False


class DestinationGone(PermanentDeliveryError):
    """The receiver says the endpoint is gone for good (HTTP 410): the
    engine disables the destination (see notifier.engine.health)."""


# Identity (Keystone look-ups) and templates


class IdentityError(NotifierException):
    """Keystone could not answer a look-up; it may work later."""

    msg_fmt = 'Keystone could not be asked: %(reason)s'


class IdentityNotConfigured(IdentityError):
    msg_fmt = ('No Keystone service user is configured, so project admins '
               'and users cannot be looked up. Set auth_type and the '
               'credentials in the [service_user] section of the '
               'configuration (or address "specified" recipients).')


class IdentityUnavailable(IdentityError):
    msg_fmt = ('Keystone could not be asked for users or projects: '
               '%(reason)s. Check the [service_user] options and that '
               'Keystone is reachable; deliveries that need it are retried.')


# Direct messages and broadcasts


class MessageNotFound(NotFound):
    msg_fmt = 'No message with id %(id)s was found in your project.'


class BroadcastNotFound(NotFound):
    msg_fmt = 'No broadcast with id %(id)s was found in your project.'


class ChildProjectNotFound(NotFound):
    msg_fmt = ('Project %(id)s is not a child project of your project '
               '%(parent)s; give the id of one of its child projects as '
               'recipient_id, or none to send to all of them.')


# The delivery ledger, resend and re-processing


class DeliveryNotFound(NotFound):
    msg_fmt = 'No delivery with id %(id)s was found in your project.'


class DeliveryNotResendable(Conflict):
    msg_fmt = ('Delivery %(id)s is %(status)s and cannot be resent: only a '
               'failed delivery can. %(hint)s')


class NotificationBusy(Conflict):
    msg_fmt = ('Notification %(id)s is %(status)s: an engine is working on '
               'it. Try again when it is no longer new or running.')


class NotificationNotReprocessable(Conflict):
    msg_fmt = ('Notification %(id)s is %(status)s; only a failed or ignored '
               'notification can be re-processed. %(hint)s')


class TemplateNotFound(NotFound):
    msg_fmt = ('There is no template %(id)s; the templates are: '
               '%(available)s.')


class TemplateNotOverridden(NotFound):
    msg_fmt = ('Template %(id)s has no %(scope)s to remove; the default '
               'already applies.')


class TemplateInvalid(Invalid):
    msg_fmt = 'The %(what)s of the template is not valid: %(reason)s.'
