"""Destinations: where a project's notifications are delivered.

Settings are validated by the medium's driver. Secret settings (tokens,
webhook URLs, signing secrets) are write-only: they are encrypted at rest
and a response only names the ones that are set.
"""

import functools
import time

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import strutils
from oslo_utils import uuidutils

from notifier.api import microversion
from notifier.api.schemas import destinations as schema
from notifier.api import util
from notifier.api import validation
from notifier.api import wsgi
from notifier import crypto
from notifier.db import api as db
from notifier.engine import health
from notifier import exception
from notifier.policies import destinations as policies
from notifier import rendering
from notifier import views

LOG = logging.getLogger(__name__)


@functools.lru_cache(maxsize=None)
def _settings_validator(driver_class):
    return validation.validator(driver_class.settings_schema)


def _driver(req, medium):
    driver = req.environ['notifier.drivers'].get(medium)
    driver.check_configured()
    return driver


def _validated_settings(driver, settings):
    """The settings split into (plain, secret) after the driver's checks."""
    validation.validate(_settings_validator(type(driver)), settings,
                        root='destination.settings',
                        secrets=driver.secret_settings)
    settings = driver.validate_settings(dict(settings))
    secret = {k: v for k, v in settings.items()
              if k in driver.secret_settings}
    plain = {k: v for k, v in settings.items() if k not in secret}
    return plain, secret


def _serialize_destination(destination, listing=False, req=None):
    body = views.destination(destination)
    if req is not None and microversion.is_supported(req, '1.6'):
        body['health'] = health.view(destination)
    try:
        body['secrets_set'] = sorted(crypto.decrypt(cfg.CONF,
                                                    destination.secrets))
    except crypto.SecretsUnreadable:
        if not listing:
            raise
        # One unreadable destination must not hide the others.
        LOG.error('Destination %s has secrets that the configured [secrets] '
                  'encryption_keys cannot decrypt', destination.uuid)
        body['secrets_set'] = []
    return body


def _get(ctx, destination_id, project_id):
    return db.destination_get(ctx, destination_id,
                              project_id=util.lookup_scope(ctx, project_id))


@wsgi.handler
@microversion.version_bounds(min_version='1.5')
@validation.request_body_schema(schema.create_request_body)
@validation.response_body_schema(schema.show_response_body)
def create_destination(req, project_id=None):
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    ctx.can(policies.CREATE, {'project_id': project_id})
    body = validation.json_body(req)['destination']
    driver = _driver(req, body['medium'])
    plain, secret = _validated_settings(driver, body.get('settings', {}))
    destination = db.destination_create(ctx, {
        'project_id': project_id, 'user_id': ctx.user_id,
        'name': body['name'], 'medium': body['medium'], 'settings': plain,
        'secrets': crypto.encrypt(cfg.CONF, secret),
        'enabled': body.get('enabled', True)})
    LOG.info('Created %(medium)s destination %(id)s in project %(project)s',
             {'medium': destination.medium, 'id': destination.uuid,
              'project': project_id})
    return wsgi.json_response(
        201, {'destination': _serialize_destination(destination,
                                                    req=req)})


@wsgi.handler
@microversion.version_bounds(min_version='1.5')
@validation.query_params_schema(schema.index_request_query)
@validation.response_body_schema(schema.index_response_body)
def list_destinations(req, project_id=None):
    ctx = util.context(req)
    params = req.GET
    scope = util.list_scope(ctx, params, project_id)
    ctx.can(policies.LIST, {'project_id': scope or ctx.project_id})
    filters = {}
    if 'medium' in params:
        filters['medium'] = params['medium']
    if 'enabled' in params:
        filters['enabled'] = strutils.bool_from_string(params['enabled'])
    destinations = db.destination_list(ctx, project_id=scope,
                                       filters=filters,
                                       **util.pagination(params))
    return wsgi.json_response(200, {'destinations': [
        _serialize_destination(d, listing=True, req=req)
        for d in destinations]})


@wsgi.handler
@microversion.version_bounds(min_version='1.5')
@validation.response_body_schema(schema.show_response_body)
def show_destination(req, destination_id, project_id=None):
    ctx = util.context(req)
    destination = _get(ctx, destination_id, project_id)
    ctx.can(policies.SHOW, {'project_id': destination.project_id})
    return wsgi.json_response(
        200, {'destination': _serialize_destination(destination,
                                                    req=req)})


@wsgi.handler
@microversion.version_bounds(min_version='1.5')
@validation.request_body_schema(schema.update_request_body)
@validation.response_body_schema(schema.show_response_body)
def update_destination(req, destination_id, project_id=None):
    ctx = util.context(req)
    destination = _get(ctx, destination_id, project_id)
    ctx.can(policies.UPDATE, {'project_id': destination.project_id})
    body = validation.json_body(req)['destination']
    values = {k: body[k] for k in ('name', 'enabled') if k in body}
    if 'settings' in body:
        driver = _driver(req, destination.medium)
        settings = dict(destination.settings)
        settings.update(crypto.decrypt(cfg.CONF, destination.secrets))
        for key, value in body['settings'].items():
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = value
        plain, secret = _validated_settings(driver, settings)
        values.update(settings=plain,
                      secrets=crypto.encrypt(cfg.CONF, secret))
    if body.get('enabled') is True or 'settings' in body:
        # Re-enabled or changed by its owner: the circuit breaker and a
        # disabling by the engine (HTTP 410) start over.
        values.update(db.HEALTH_RESET)
    destination = db.destination_update(ctx, destination.uuid, values)
    return wsgi.json_response(
        200, {'destination': _serialize_destination(destination,
                                                    req=req)})


@wsgi.handler
@microversion.version_bounds(min_version='1.5')
def delete_destination(req, destination_id, project_id=None):
    ctx = util.context(req)
    destination = _get(ctx, destination_id, project_id)
    ctx.can(policies.DELETE, {'project_id': destination.project_id})
    db.destination_delete(ctx, destination.uuid)
    return wsgi.json_response(204)


def _sample_event(destination):
    return {
        'id': 0, 'notification_uuid': destination.uuid,
        'type': 'COMPUTE_HOST', 'hostname': 'notifier-test',
        'source_host_uuid': destination.uuid,
        'generated_time': views.isotime(destination.updated_at),
        'payload': {'event': 'TEST'}, 'status': 'running',
        'project_id': destination.project_id,
        'created_at': views.isotime(destination.updated_at),
        'updated_at': views.isotime(destination.updated_at),
        'deleted': False, 'deleted_at': None,
    }


@wsgi.handler
@microversion.version_bounds(min_version='1.5')
@validation.response_body_schema(schema.test_response_body)
def test_destination(req, destination_id, project_id=None):
    """Deliver a sample message now and answer with the outcome."""
    ctx = util.context(req)
    destination = _get(ctx, destination_id, project_id)
    ctx.can(policies.TEST, {'project_id': destination.project_id})
    driver = _driver(req, destination.medium)
    settings = dict(destination.settings)
    settings.update(crypto.decrypt(cfg.CONF, destination.secrets))
    # A new id per test: receivers that drop duplicates by id must see
    # every test.
    start = time.monotonic()
    try:
        # The project's destination_test template (its override or the
        # system default); an admins recipient Keystone cannot resolve
        # is a failed test, not an error of the request.
        message = rendering.render_destination_test(
            ctx, cfg.CONF, destination, uuidutils.generate_uuid(),
            _sample_event(destination))
        result = driver.deliver(message, settings)
        outcome = {'outcome': 'delivered', 'retryable': False,
                   'receipt': result.receipt, 'error': None}
    except exception.DeliveryError as e:
        outcome = {'outcome': 'failed', 'retryable': e.retryable,
                   'receipt': e.receipt, 'error': str(e)}
    outcome['latency_ms'] = (time.monotonic() - start) * 1000.0
    LOG.info('Test send to destination %(id)s: %(outcome)s',
             {'id': destination.uuid, 'outcome': outcome['outcome']})
    return wsgi.json_response(200, {'test': outcome})
