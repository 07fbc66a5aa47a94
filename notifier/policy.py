"""The policy enforcer: oslo.policy with Notifier's rules in code."""

from oslo_config import cfg
from oslo_log import log as logging
from oslo_policy import policy as oslo_policy

from notifier import exception
from notifier import policies

LOG = logging.getLogger(__name__)
_ENFORCER = None


def get_enforcer(conf=None):
    """The enforcer, created once; also the oslo.policy.enforcer hook."""
    global _ENFORCER
    if _ENFORCER is None:
        conf = conf if conf is not None else cfg.CONF
        _ENFORCER = oslo_policy.Enforcer(conf)
        _ENFORCER.register_defaults(policies.list_rules())
        _ENFORCER.load_rules()
    return _ENFORCER


def reset():
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
    _ENFORCER = None


def authorize(context, action, target, fatal=True):
    enforcer = get_enforcer()
    try:
        return enforcer.authorize(
            action, target, context, do_raise=fatal,
            exc=exception.PolicyNotAuthorized, action=action)
    except exception.PolicyNotAuthorized:
        LOG.debug('Policy check for %(action)s failed for user %(user)s '
                  'in project %(project)s',
                  {'action': action, 'user': context.user_id,
                   'project': context.project_id})
        raise
