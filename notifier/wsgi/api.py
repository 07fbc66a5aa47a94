"""The WSGI entry point: ``notifier.wsgi.api:application``.

For uwsgi, gunicorn or mod_wsgi. The config comes from the default places
(/etc/notifier/notifier.conf, ...) or the files named by the
NOTIFIER_CONFIG_FILES environment variable (comma separated); the server's
own command line is never parsed.
"""

import os

from notifier import service


def init_application():
    files = os.environ.get('NOTIFIER_CONFIG_FILES')
    conf = service.prepare(
        argv=[], default_config_files=files.split(',') if files else None)
    return service.load_app(conf)


application = init_application()
