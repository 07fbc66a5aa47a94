"""oslo.messaging set-up shared by the API (client) and the engine (server).

Executors are always ``threading``: there is no eventlet in Notifier.
"""

import oslo_messaging as messaging
from oslo_messaging._metrics import client as _metrics
from oslo_messaging import opts as messaging_opts
from oslo_messaging._tracing import client as _tracing

TOPIC = 'notifier-engine'

_TRANSPORT = None


def _register_transport_opts(conf):
    # oslo.messaging registers its tracing and metrics options on the
    # global CONF only (oslo.messaging 18.3), and a client reads both on
    # every cast; register them on ``conf`` so that a private ConfigOpts
    # works as well.
    conf.register_opts(_tracing.oslo_messaging_tracing,
                       group='oslo_messaging_tracing')
    conf.register_opts(_metrics.oslo_messaging_metrics,
                       group='oslo_messaging_metrics')


def get_transport(conf):
    global _TRANSPORT
    if _TRANSPORT is None:
        _register_transport_opts(conf)
        _TRANSPORT = messaging.get_rpc_transport(conf)
    return _TRANSPORT


def register_default_opts(conf):
    """oslo.messaging's [DEFAULT] options, registered before they are
    read, so that Notifier can set their defaults."""
    for group, opts in messaging_opts.list_opts():
        if group in (None, 'DEFAULT'):
            conf.register_opts(opts)


def set_transport_default(conf, url):
    """Default ``transport_url`` (before it is read), for notifier-all."""
    register_default_opts(conf)
    conf.set_default('transport_url', url)


def cleanup():
    global _TRANSPORT
    if _TRANSPORT is not None:
        _TRANSPORT.cleanup()
    _TRANSPORT = None


def get_server(conf, target, endpoints):
    return messaging.get_rpc_server(get_transport(conf), target, endpoints,
                                    executor='threading')


def get_client(conf, target, **kwargs):
    return messaging.get_rpc_client(get_transport(conf), target, **kwargs)
