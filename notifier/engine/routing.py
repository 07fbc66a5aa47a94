"""Routing: which destinations a notification goes to."""

from notifier.db import api as db


def matches(filters, notification):
    """Whether a subscription's filters select the notification.

    Each filter is a list of accepted values; an absent or empty one
    accepts everything, so empty filters match the whole project.
    """
    payload = notification.payload or {}
    checks = (('types', notification.type),
              ('hostnames', notification.hostname),
              ('events', payload.get('event')))
    return all(not filters.get(name) or value in filters[name]
               for name, value in checks)


def targets(conf, context, notification, subscriptions=None):
    """Target key -> (medium, destination id) for every delivery the
    notification needs: the operator's default destinations and the
    enabled destinations of the project's matching subscriptions (the
    project's :func:`db.subscriptions_enabled`, looked up unless given).
    """
    result = {'default:%s' % medium: (medium, None)
              for medium in conf.engine.default_destinations}
    if subscriptions is None:
        subscriptions = db.subscriptions_enabled(context,
                                                 notification.project_id)
    for subscription in subscriptions:
        if not matches(subscription.filters, notification):
            continue
        for destination in subscription.destinations:
            if destination.enabled:
                result['destination:%s' % destination.uuid] = (
                    destination.medium, destination.id)
    return result
