"""JSON schema validation of requests (and, in tests, responses).

Validators are built once per schema, when the handler module is imported;
an error names the field and says what is wrong with it.
"""

import functools

import iso8601
import jsonschema
from oslo_config import cfg
from oslo_serialization import jsonutils
from oslo_utils import uuidutils
import webob

from notifier.api import microversion
from notifier import exception

FORMAT_CHECKER = jsonschema.FormatChecker()
BODY_KEY = 'notifier.json_body'


@FORMAT_CHECKER.checks('date-time', raises=(iso8601.ParseError,))
def _date_time(value):
    if isinstance(value, str):
        iso8601.parse_date(value)
    return True


@FORMAT_CHECKER.checks('uuid')
def _uuid(value):
    return not isinstance(value, str) or uuidutils.is_uuid_like(value)


def validator(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema,
                                           format_checker=FORMAT_CHECKER)


def _shorten(text, width=100):
    return text if len(text) <= width else text[:width - 3] + '...'


BODY = ('field', 'the request body')
QUERY = ('query parameter', 'the query string')


def _describe(error, root, secrets=(), where=BODY):
    """The error in words; ``where`` names an item and the whole (a body's
    fields, or a query string's parameters)."""
    item, whole = where
    if error.absolute_path and error.absolute_path[0] in secrets:
        # Never echo a secret: name the field and the check it failed.
        return 'Invalid input for %s %s.%s (secret, not shown): it ' \
            'fails the %s check of its schema.' % (
                item, root, error.absolute_path[0], error.validator)
    message = _shorten(error.message, 120)
    path = '.'.join(str(p) for p in error.absolute_path)
    field = '%s.%s' % (root, path) if root and path else (path or root)
    if error.validator == 'additionalProperties':
        return ('Invalid input in %s: %s; remove the unknown %s.' % (
            field or whole, message, item))
    if error.validator == 'required':
        return 'Missing %s in %s: %s.' % (item, field or whole, message)
    return 'Invalid input for %s %s (value %s): %s.' % (
        item, field or whole, _shorten(repr(error.instance), 80), message)


def validate(compiled, instance, root='', secrets=(), where=BODY):
    """Raise :class:`exception.ValidationError` for the best error; the
    values of the top-level fields named in ``secrets`` are never quoted."""
    error = jsonschema.exceptions.best_match(compiled.iter_errors(instance))
    if error is not None:
        raise exception.ValidationError(
            detail=_describe(error, root, secrets, where))


def json_body(req):
    if BODY_KEY not in req.environ:
        if not req.body:
            raise exception.ValidationError(
                detail='The request needs a JSON body.')
        content_type = req.content_type or 'application/json'
        if content_type != 'application/json':
            raise webob.exc.HTTPUnsupportedMediaType(
                'The request body must be application/json, not %s.' %
                content_type)
        try:
            req.environ[BODY_KEY] = jsonutils.loads(req.body)
        except ValueError as e:
            raise exception.ValidationError(
                detail='Malformed JSON in the request body: %s' % e)
    return req.environ[BODY_KEY]


def request_body_schema(schema, min_version=None, max_version=None):
    compiled = validator(schema)

    def decorator(f):
        @functools.wraps(f)
        def wrapper(req, *args, **kwargs):
            if microversion.is_supported(req, min_version, max_version):
                validate(compiled, json_body(req))
            return f(req, *args, **kwargs)
        return wrapper
    return decorator


def query_params_schema(schema, min_version=None, max_version=None):
    compiled = validator(schema)

    def decorator(f):
        @functools.wraps(f)
        def wrapper(req, *args, **kwargs):
            if microversion.is_supported(req, min_version, max_version):
                params = req.GET.mixed()
                for name, value in params.items():
                    if isinstance(value, list):
                        raise exception.ValidationError(
                            detail='Query parameter %s is given %d times; '
                                   'give it once.' % (name, len(value)))
                validate(compiled, params, where=QUERY)
            return f(req, *args, **kwargs)
        return wrapper
    return decorator


def response_body_schema(schema, min_version=None, max_version=None):
    """Check the response against ``schema`` when [api] validate_responses
    is set (tests and development)."""
    compiled = validator(schema)

    def decorator(f):
        @functools.wraps(f)
        def wrapper(req, *args, **kwargs):
            response = f(req, *args, **kwargs)
            if (cfg.CONF.api.validate_responses and
                    microversion.is_supported(req, min_version, max_version)):
                error = jsonschema.exceptions.best_match(
                    compiled.iter_errors(response.json_body))
                if error is not None:
                    raise RuntimeError('Response does not match its schema: '
                                       '%s' % _describe(error, ''))
            return response
        return wrapper
    return decorator
