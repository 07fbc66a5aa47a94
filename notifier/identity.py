"""Keystone look-ups: who administers a project, its children, emails.

Every function takes the service's ConfigOpts and asks Keystone as the
``[service_user]`` (see :mod:`notifier.conf.service_user`). Answers are
kept ``[service_user] cache_time`` seconds. A function raises
:class:`notifier.exception.IdentityNotConfigured` when no service user is
configured (the in-process noauth default) and
:class:`notifier.exception.IdentityUnavailable` when Keystone cannot be
reached or refuses; both are :class:`notifier.exception.IdentityError`, so
a caller can catch one class (the engine retries the delivery later).
"""

import threading
import time
import weakref

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from oslo_log import log as logging

from notifier.conf import service_user
from notifier import exception

LOG = logging.getLogger(__name__)
GROUP = service_user.GROUP

_LOCK = threading.Lock()
# id(conf) -> (weakref to conf, adapter); one session (and token) per conf.
_ADAPTERS = {}
# (id(conf), function name, args) -> (expiry, value)
_CACHE = {}
_CACHE_MAX = 4096


def _adapter(conf):
    """The keystoneauth Adapter for the identity API, made once per conf."""
    with _LOCK:
        known = _ADAPTERS.get(id(conf))
        if known is not None and known[0]() is conf:
            return known[1]
    group = getattr(conf, GROUP)
    if not group.auth_type:
        raise exception.IdentityNotConfigured()
    try:
        auth = ks_loading.load_auth_from_conf_options(conf, GROUP)
        session = ks_loading.load_session_from_conf_options(conf, GROUP,
                                                            auth=auth)
    except ks_exc.ClientException as e:
        raise exception.IdentityNotConfigured(
            'The [%s] options are incomplete (%s); set the auth_type '
            'plugin\'s options, such as auth_url, username and password.'
            % (GROUP, e))
    kwargs = {'service_type': group.service_type or 'identity'}
    if not (group.version or group.min_version or group.max_version):
        kwargs['version'] = '3'
    adapter = ks_loading.load_adapter_from_conf_options(
        conf, GROUP, session=session, auth=auth, **kwargs)
    with _LOCK:
        _ADAPTERS[id(conf)] = (weakref.ref(conf), adapter)
    return adapter


def _get(conf, path, **params):
    """GET ``path`` of the identity API; the decoded JSON body."""
    adapter = _adapter(conf)
    try:
        resp = adapter.get(path, params=params or None, raise_exc=True)
    except ks_exc.NotFound:
        raise
    except ks_exc.ClientException as e:
        LOG.warning('Keystone look-up %(path)s failed: %(error)s',
                    {'path': path, 'error': e})
        raise exception.IdentityUnavailable(reason=str(e))
    return resp.json()


def _cached(conf, name, args, compute):
    ttl = getattr(conf, GROUP).cache_time
    key = (id(conf), name, args)
    now = time.monotonic()
    if ttl:
        with _LOCK:
            hit = _CACHE.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
    value = compute()
    if ttl:
        with _LOCK:
            if len(_CACHE) >= _CACHE_MAX:
                _CACHE.clear()
            _CACHE[key] = (now + ttl, value)
    return value


def reset():
    """Forget every cached answer and session (tests, or after the
    ``[service_user]`` options or Keystone changed)."""
    with _LOCK:
        _CACHE.clear()
        _ADAPTERS.clear()


def _role_id(conf, role_name):
    def compute():
        roles = _get(conf, '/roles', name=role_name).get('roles', [])
        if not roles:
            raise exception.IdentityUnavailable(
                reason='Keystone has no role named %r; check [%s] '
                       'admin_role or the role given' % (role_name, GROUP))
        return roles[0]['id']
    return _cached(conf, 'role_id', (role_name,), compute)


def user_email(conf, user_id):
    """The email address of Keystone user ``user_id``, or None if the user
    has none (or no longer exists).

    :raises: :class:`notifier.exception.IdentityError`
    """
    def compute():
        try:
            user = _get(conf, '/users/%s' % user_id)['user']
        except ks_exc.NotFound:
            return None
        return user.get('email') or None
    return _cached(conf, 'user_email', (user_id,), compute)


def _assigned_user_ids(conf, project_id, role_id=None):
    params = {'scope.project.id': project_id, 'effective': 'true'}
    if role_id:
        params['role.id'] = role_id
    try:
        body = _get(conf, '/role_assignments', **params)
    except ks_exc.NotFound:
        return []
    user_ids = []
    for assignment in body.get('role_assignments', []):
        user_id = assignment.get('user', {}).get('id')
        if user_id and user_id not in user_ids:
            user_ids.append(user_id)
    return user_ids


def project_user_emails(conf, project_id, role=None):
    """The users with a role assignment on project ``project_id``.

    Effective assignments count (through a group, an implied role or an
    inherited one). With ``role`` (a role name), only the users that have
    that role. Users without an email address are left out.

    :returns: a list of ``{'id': ..., 'name': ..., 'email': ...}`` dicts,
              sorted by email
    :raises: :class:`notifier.exception.IdentityError`
    """
    def compute():
        role_id = _role_id(conf, role) if role else None
        users = []
        for user_id in _assigned_user_ids(conf, project_id, role_id):
            try:
                user = _get(conf, '/users/%s' % user_id)['user']
            except ks_exc.NotFound:
                continue
            if user.get('email'):
                users.append({'id': user_id, 'name': user.get('name'),
                              'email': user['email']})
        return sorted(users, key=lambda u: (u['email'], u['id']))
    return _cached(conf, 'project_user_emails', (project_id, role), compute)


def project_admin_emails(conf, project_id):
    """The email addresses of project ``project_id``'s administrators: the
    users holding ``[service_user] admin_role`` on it, sorted, without
    duplicates. Admins without an email address are left out.

    :raises: :class:`notifier.exception.IdentityError`
    """
    role = getattr(conf, GROUP).admin_role
    users = project_user_emails(conf, project_id, role=role)
    return sorted({u['email'] for u in users})


def child_projects(conf, parent_project_id):
    """The direct children of project ``parent_project_id``.

    :returns: a list of ``{'id': ..., 'name': ...}`` dicts, sorted by name
    :raises: :class:`notifier.exception.IdentityError`
    """
    def compute():
        body = _get(conf, '/projects', parent_id=parent_project_id)
        return sorted(({'id': p['id'], 'name': p['name']}
                       for p in body.get('projects', [])),
                      key=lambda p: (p['name'], p['id']))
    return _cached(conf, 'child_projects', (parent_project_id,), compute)
