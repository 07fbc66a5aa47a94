"""The request context: who is asking, for which project, with which roles."""

from oslo_context import context
from oslo_db.sqlalchemy import enginefacade

from notifier import policy


@enginefacade.transaction_context_provider
class RequestContext(context.RequestContext):
    """oslo.context's RequestContext, usable as an enginefacade context."""

    def can(self, action, target=None, fatal=True):
        """Check that policy allows ``action`` on ``target``.

        ``target`` defaults to the caller's own project. Raises
        :class:`notifier.exception.PolicyNotAuthorized` when ``fatal``,
        otherwise returns a bool.
        """
        if target is None:
            target = {'project_id': self.project_id,
                      'user_id': self.user_id}
        return policy.authorize(self, action, target, fatal=fatal)


def get_admin_context(request_id=None):
    """A context for the engine's own work, outside any request.

    With the request id of the API request that caused the work, so that
    the engine's log lines can be matched with the API's; it becomes the
    thread's current context for logging.
    """
    kwargs = {'request_id': request_id} if request_id else {}
    return RequestContext(is_admin=True, **kwargs)
