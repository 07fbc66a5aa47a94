"""The delivery ledger: every delivery of the project's notifications,
what was sent, to whom, with what answer, attempt by attempt; and the
resend of a failed delivery.

A resend keeps the delivery's id, which receivers deduplicate by (the
CloudEvents ``id``, ``webhook-id``, the email ``Message-ID``). That is why
only a failed delivery can be resent: a delivered one would be dropped as a
duplicate by every receiver that deduplicates, while the ledger would claim
it was sent twice.
"""

import iso8601
from oslo_log import log as logging
from oslo_utils import timeutils

from notifier.api import microversion
from notifier.api.schemas import deliveries as schema
from notifier.api import util
from notifier.api import validation
from notifier.api import wsgi
from notifier.db import api as db
from notifier.policies import deliveries as policies
from notifier import views

LOG = logging.getLogger(__name__)

# Left out of list entries: the show has them.
_DETAIL_ONLY = ('text', 'html', 'attempt_history')


def _serialize_delivery(delivery, listing=False):
    body = views.ledger_delivery(delivery)
    if listing:
        for key in _DETAIL_ONLY:
            del body[key]
    return body


def _utc_naive(value):
    return timeutils.normalize_time(iso8601.parse_date(value))


@wsgi.handler
@microversion.version_bounds(min_version='1.6')
@validation.query_params_schema(schema.index_request_query)
@validation.response_body_schema(schema.index_response_body)
def list_deliveries(req, project_id=None):
    ctx = util.context(req)
    params = req.GET
    scope = util.list_scope(ctx, params, project_id)
    ctx.can(policies.LIST, {'project_id': scope or ctx.project_id})
    filters = {k: params[k] for k in ('notification', 'message',
                                      'destination_id', 'medium', 'status')
               if k in params}
    for name in ('since', 'until'):
        if name in params:
            filters[name] = _utc_naive(params[name])
    deliveries = db.delivery_list(ctx, project_id=scope, filters=filters,
                                  **util.pagination(params))
    return wsgi.json_response(200, {'deliveries': [
        _serialize_delivery(d, listing=True) for d in deliveries]})


@wsgi.handler
@microversion.version_bounds(min_version='1.6')
@validation.response_body_schema(schema.show_response_body)
def show_delivery(req, delivery_id, project_id=None):
    ctx = util.context(req)
    delivery = db.delivery_get(ctx, delivery_id,
                               project_id=util.lookup_scope(ctx, project_id))
    ctx.can(policies.SHOW, {'project_id': delivery.project_id})
    return wsgi.json_response(200, {'delivery': _serialize_delivery(
        delivery)})


@wsgi.handler
@microversion.version_bounds(min_version='1.6')
@validation.response_body_schema(schema.show_response_body)
def resend_delivery(req, delivery_id, project_id=None):
    """Put a failed delivery back in the queue and wake an engine up."""
    ctx = util.context(req)
    scope = util.lookup_scope(ctx, project_id)
    delivery = db.delivery_get(ctx, delivery_id, project_id=scope)
    ctx.can(policies.RESEND, {'project_id': delivery.project_id})
    delivery = db.delivery_resend(ctx, delivery_id, project_id=scope)
    LOG.info('Delivery %(id)s (%(target)s) of notification %(n)s is resent',
             {'id': delivery.uuid, 'target': delivery.target,
              'n': delivery.notification.notification_uuid})
    req.environ['notifier.engine_api'].process_notification(
        ctx, delivery.notification_id)
    return wsgi.json_response(202, {'delivery': _serialize_delivery(
        delivery)})
