"""Fixtures for tests that run Notifier in the test process."""

import os

import fixtures
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
import webtest

from notifier.db import api as db
from notifier.db import migration
from notifier import rpc
from notifier import service


class SQLiteDatabase(fixtures.Fixture):
    """A migrated SQLite file (not :memory:, which is per connection and
    so per thread) behind the global enginefacade, foreign keys on."""

    def _setUp(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'notifier.sqlite')
        self.url = 'sqlite:///%s' % path
        facade = enginefacade.transaction_context()
        facade.configure(connection=self.url, sqlite_fk=True)
        self.useFixture(test_fixtures.ReplaceEngineFacadeFixture(
            enginefacade._context_manager, facade))
        self.engine = facade.writer.get_engine()
        db.setup_sqlite(self.engine)
        migration.upgrade('head', engine=self.engine)
        self.addCleanup(self.engine.dispose)


class Transport(fixtures.Fixture):
    """A fresh in-process transport for the test (fake:// by default)."""

    def __init__(self, conf, url='fake://'):
        self.conf = conf
        self.url = url

    def _setUp(self):
        rpc.cleanup()
        self.conf.set_override('transport_url', self.url)
        self.addCleanup(self.conf.clear_override, 'transport_url')
        self.addCleanup(rpc.cleanup)


class Engine(fixtures.Fixture):
    """A running engine: RPC server and thread pools. Its periodic tasks
    do not run on a timer; tests call ``manager.run_periodic_tasks()``."""

    def __init__(self, conf, drivers=None):
        self.conf = conf
        self.drivers = drivers

    def _setUp(self):
        self.service = service.Engine(self.conf, drivers=self.drivers,
                                      periodic=False)
        self.service.start()
        self.addCleanup(self.service.stop)
        self.manager = self.service.manager


class API(fixtures.Fixture):
    """The paste-built API pipeline, driven by webtest."""

    def __init__(self, conf, project='demo', user='alice',
                 roles='member,reader'):
        self.conf = conf
        self.headers = {'X-Auth-Token': '%s:%s' % (user, project),
                        'X-Roles': roles}

    def _setUp(self):
        self.app = webtest.TestApp(service.load_app(self.conf),
                                   extra_environ={'REMOTE_ADDR': '127.0.0.1'})

    def _request(self, method, url, headers=None, **kwargs):
        merged = dict(self.headers)
        merged.update(headers or {})
        return getattr(self.app, method)(url, headers=merged, **kwargs)

    def get(self, url, **kwargs):
        return self._request('get', url, **kwargs)

    def post(self, url, body, **kwargs):
        return self._request('post_json', url, params=body, **kwargs)

    def put(self, url, body, **kwargs):
        return self._request('put_json', url, params=body, **kwargs)

    def delete(self, url, **kwargs):
        return self._request('delete', url, **kwargs)
