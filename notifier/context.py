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


def get_admin_context():
    """A context for the engine's own work, outside any request."""
    return RequestContext(is_admin=True, overwrite=False)
