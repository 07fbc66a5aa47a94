"""Paste deploy factories: the API app and its pipeline."""

import functools

from oslo_config import cfg

from notifier.api import caster
from notifier.api import middleware
from notifier.api import router
from notifier.drivers import base as drivers_base
from notifier.engine import rpcapi


def app_factory(global_conf, **local_conf):
    """The Notifier API itself: the router over the route table."""
    engine_api = rpcapi.EngineAPI(cfg.CONF)
    # New notifications are cast from a thread of their own, several at
    # a time (see notifier.api.caster); the batch carries no context.
    return router.Router(
        engine_api=engine_api,
        caster=caster.Caster(
            functools.partial(engine_api.process_notifications, None),
            interval=cfg.CONF.api.cast_interval,
            batch_size=cfg.CONF.engine.batch_size),
        drivers=drivers_base.DriverManager(cfg.CONF))


def pipeline_factory(loader, global_conf, **local_conf):
    """The pipeline named by ``[api] auth_strategy``.

    Each auth strategy is a line in the composite section of
    api-paste.ini: filters first, the app last. The word ``discovery``
    marks where version discovery branches off to the app, ahead of
    authentication, so that it is always served.
    """
    strategy = cfg.CONF.api.auth_strategy
    names = local_conf[strategy].split()
    api = loader.get_app(names[-1])
    app = api
    for name in reversed(names[:-1]):
        if name == 'discovery':
            app = middleware.Discovery(app, api)
        else:
            app = loader.get_filter(name)(app)
    return app
