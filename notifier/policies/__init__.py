import itertools

from notifier.policies import base
from notifier.policies import broadcasts
from notifier.policies import deliveries
from notifier.policies import destinations
from notifier.policies import hosts
from notifier.policies import messages
from notifier.policies import notifications
from notifier.policies import subscriptions
from notifier.policies import templates


def list_rules():
    return list(itertools.chain(
        base.list_rules(),
        notifications.list_rules(),
        hosts.list_rules(),
        destinations.list_rules(),
        subscriptions.list_rules(),
        templates.list_rules(),
        deliveries.list_rules(),
        messages.list_rules(),
        broadcasts.list_rules(),
    ))
