"""Primitive views of database rows, shared by the API and the engine (the
engine sends the same view of a notification as an event's data)."""

import json

TIME_FORMAT = '%Y-%m-%dT%H:%M:%S.%f'


def isotime(value):
    return value.strftime(TIME_FORMAT) if value is not None else None


def notification(n):
    """The masakari view of a notification."""
    return {
        'id': n.id,
        'notification_uuid': n.notification_uuid,
        'type': n.type,
        'hostname': n.hostname,
        'source_host_uuid': n.source_host_uuid,
        'generated_time': isotime(n.generated_time),
        'payload': n.payload,
        'status': n.status,
        'project_id': n.project_id,
        'created_at': isotime(n.created_at),
        'updated_at': isotime(n.updated_at),
        'deleted': False,
        'deleted_at': None,
    }


# The list's JSON written directly, in a quarter of the time of building
# the dicts and encoding them: the same text as the API's encoder writes for
# [notification(n), ...] (json.dumps' defaults: ASCII, ", " and ": ").
_LISTED = ('{"id": %d, "notification_uuid": %s, "type": %s, "hostname": %s, '
           '"source_host_uuid": %s, "generated_time": "%s", "payload": %s, '
           '"status": %s, "project_id": %s, "created_at": "%s", '
           '"updated_at": "%s", "deleted": false, "deleted_at": null}')


def notifications_json(rows):
    """The JSON text of ``{"notifications": [...]}``, :func:`notification`
    of each row of ``db.api.notification_list``.

    The rows' times are isotime's text already, but with the year on 4
    digits (strftime's %Y does not pad it: year 5 is '5-01-01T...'); their
    payloads are the JSON text the column type stored, which is what the
    encoder writes for the decoded payload. The rows are unpacked in the
    order of their columns (a row's attributes cost a microsecond each).
    """
    q = json.encoder.encode_basestring_ascii
    return '{"notifications": [%s]}' % ', '.join([_LISTED % (
        id_, q(uuid), q(type_), q(hostname), q(host_uuid),
        generated_time.lstrip('0'), payload, q(status), q(project_id),
        created_at.lstrip('0'), updated_at.lstrip('0'))
        for (id_, uuid, type_, hostname, host_uuid, generated_time, payload,
             status, project_id, created_at, updated_at) in rows])


def host(h):
    return {
        'id': h.uuid,
        'uuid': h.uuid,
        'name': h.name,
        'on_maintenance': h.on_maintenance,
        'project_id': h.project_id,
        'created_at': isotime(h.created_at),
        'updated_at': isotime(h.updated_at),
    }


def attempt(a):
    return {
        'number': a.number,
        'engine': a.engine,
        'started_at': isotime(a.started_at),
        'latency_ms': a.latency_ms,
        'outcome': a.outcome,
        'receipt': a.receipt,
        'error': a.error,
    }


def delivery(d):
    return {
        'id': d.uuid,
        'target': d.target,
        'medium': d.medium,
        'destination_id': (d.target.split(':', 1)[1]
                           if d.target.startswith('destination:') else None),
        'status': d.status,
        'attempts': d.attempts,
        'next_attempt_at': isotime(d.next_attempt_at),
        'receipt': d.receipt,
        'last_error': d.last_error,
        'delivered_at': isotime(d.delivered_at),
        'created_at': isotime(d.created_at),
        'updated_at': isotime(d.updated_at),
        'attempt_history': [attempt(a) for a in d.attempt_records],
    }


def ledger_delivery(d):
    """A delivery in the ledger (1.6): the view a notification embeds,
    plus whose it is, what was rendered for it, who received it and the
    template used."""
    body = delivery(d)
    body.update({
        'notification_id': (d.notification.notification_uuid
                            if d.notification_id is not None else None),
        'message_id': d.message.uuid if d.message_id is not None else None,
        'project_id': d.project_id,
        'subject': d.subject,
        'text': d.text_body,
        'html': d.html_body,
        'recipients': list(d.recipients or []),
        'template': d.template,
        'template_version': d.template_version,
        'last_attempt_at': isotime(d.last_attempt_at),
    })
    return body


def _workflow_state(d):
    if d.status == 'delivered':
        return 'SUCCESS'
    if d.status == 'failed':
        return 'FAILURE'
    return 'RUNNING' if d.attempts else 'PENDING'


def recovery_workflow_details(deliveries):
    """Deliveries in masakari's recovery_workflow_details shape (1.1+), so
    that masakari clients can follow a notification's progress."""
    details = []
    for d in deliveries:
        done = d.status in ('delivered', 'failed')
        details.append({
            'name': 'Deliver to %s' % d.target,
            'state': _workflow_state(d),
            'progress': 1.0 if done else 0.0,
            'progress_details': [
                {'timestamp': a.started_at.strftime('%Y-%m-%d %H:%M:%S.%f'),
                 'message': 'Attempt %d by %s: %s%s' % (
                     a.number, a.engine, a.outcome,
                     ' (%s)' % (a.error or a.receipt)
                     if (a.error or a.receipt) else ''),
                 'progress': '1.0' if a.outcome != 'retry' else '0.0'}
                for a in d.attempt_records],
        })
    return details


def destination(d):
    """Without secrets: the API adds only the names of those set."""
    return {
        'id': d.uuid,
        'name': d.name,
        'medium': d.medium,
        'settings': dict(d.settings),
        'enabled': d.enabled,
        'project_id': d.project_id,
        'user_id': d.user_id,
        'created_at': isotime(d.created_at),
        'updated_at': isotime(d.updated_at),
    }


def subscription(s):
    return {
        'id': s.uuid,
        'name': s.name,
        'destinations': [d.uuid for d in s.destinations],
        'filters': dict(s.filters),
        'enabled': s.enabled,
        'project_id': s.project_id,
        'user_id': s.user_id,
        'created_at': isotime(s.created_at),
        'updated_at': isotime(s.updated_at),
    }
