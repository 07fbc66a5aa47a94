import threading

from oslo_context import context as oslo_context
from oslo_policy import policy as oslo_policy

from notifier import policies
from notifier.policies import notifications
from notifier import policy
from notifier.tests import base


class TestEnforcerCreation(base.TestCase):

    def test_a_request_racing_the_first_one_sees_the_rules(self):
        # A new API worker's first requests come on several threads at
        # once: the one that does not create the enforcer must not get it
        # before its rules are registered.
        creating, release = threading.Event(), threading.Event()
        register = oslo_policy.Enforcer.register_defaults

        def slow_register(enforcer, rules):
            creating.set()
            release.wait(5)  # the other thread asks meanwhile
            return register(enforcer, rules)

        self.patch(oslo_policy.Enforcer, 'register_defaults', slow_register)
        ctx = oslo_context.RequestContext(
            user_id='u', project_id='demo', roles=['member'])
        target = {'project_id': 'demo'}
        results = {}

        def check(name):
            try:
                results[name] = policy.authorize(
                    ctx, notifications.CREATE, target)
            except Exception as e:  # noqa: BLE001 - reported below
                results[name] = e

        first = threading.Thread(target=check, args=('first',))
        first.start()
        self.assertTrue(creating.wait(5))
        second = threading.Thread(target=check, args=('second',))
        second.start()
        second.join(0.5)  # with the rules published early it is done now
        release.set()
        first.join(10)
        second.join(10)
        self.assertEqual({'first': True, 'second': True}, results)
        self.assertEqual(
            {r.name for r in policies.list_rules()},
            set(policy.get_enforcer().registered_rules))
