import itertools

from notifier.policies import base
from notifier.policies import hosts
from notifier.policies import notifications


def list_rules():
    return list(itertools.chain(
        base.list_rules(),
        notifications.list_rules(),
        hosts.list_rules(),
    ))
