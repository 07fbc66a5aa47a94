"""The policy enforcer: oslo.policy with Notifier's rules in code."""

import threading
import time

from oslo_config import cfg
from oslo_log import log as logging
from oslo_policy import policy as oslo_policy

from notifier import exception
from notifier import policies

LOG = logging.getLogger(__name__)
_ENFORCER = None
_ENFORCER_LOCK = threading.Lock()

# Allowed decisions are remembered for this long. oslo.policy looks for
# changed policy files and evaluates the rule tree on every check (about
# 0.8 ms, the inspection of every check's signature included); the same
# caller doing the same thing on the same target gets the same answer, so
# within this window it is reused, and an edited policy file takes effect
# within it. Refusals are never cached: they always take the full path.
_DECISION_TTL = 1.0
_DECISION_MAX = 4096
_decisions = {}
_decisions_expire = 0.0
_decisions_lock = threading.Lock()


def get_enforcer(conf=None):
    """The enforcer, created once; also the oslo.policy.enforcer hook."""
    global _ENFORCER
    if _ENFORCER is None:
        with _ENFORCER_LOCK:
            if _ENFORCER is None:
                # Published only once its rules are registered: the first
                # requests of a new API worker arrive on several threads at
                # once, and one that found an enforcer still without rules
                # failed with PolicyNotRegistered (a 500).
                enforcer = oslo_policy.Enforcer(
                    conf if conf is not None else cfg.CONF)
                enforcer.register_defaults(policies.list_rules())
                enforcer.load_rules()
                _ENFORCER = enforcer
    return _ENFORCER


def reset():
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
    _ENFORCER = None
    _forget_decisions()


def _forget_decisions():
    global _decisions_expire
    with _decisions_lock:
        _decisions.clear()
        _decisions_expire = 0.0


def _hashable(value):
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    hash(value)
    return value


def _decision_key(context, action, target):
    """Everything a decision depends on: the rule's name, the target and
    the caller's policy values (what oslo.policy turns into credentials),
    or None when some of it cannot be a key."""
    try:
        return (action, _hashable(target),
                _hashable(dict(context.to_policy_values())))
    except (TypeError, AttributeError):
        return None


def authorize(context, action, target, fatal=True):
    global _decisions_expire
    key = _decision_key(context, action, target)
    now = time.monotonic()
    if key is not None:
        with _decisions_lock:
            if now >= _decisions_expire or len(_decisions) >= _DECISION_MAX:
                _decisions.clear()
                _decisions_expire = now + _DECISION_TTL
            result = _decisions.get(key)
        if result is not None:
            return result
    enforcer = get_enforcer()
    try:
        result = enforcer.authorize(
            action, target, context, do_raise=fatal,
            exc=exception.PolicyNotAuthorized, action=action)
        if result and key is not None:
            with _decisions_lock:
                _decisions[key] = result
        return result
    except exception.PolicyNotAuthorized:
        LOG.debug('Policy check for %(action)s failed for user %(user)s '
                  'in project %(project)s',
                  {'action': action, 'user': context.user_id,
                   'project': context.project_id})
        raise
