"""Encryption of secrets at rest (Fernet, from the cryptography library).

Destination secrets are stored as one Fernet token of their JSON; only the
engine (to deliver) and the API (to encrypt what a user sends) see them in
clear, and neither returns nor logs them.
"""

import os
import threading

from cryptography import fernet
from oslo_log import log as logging
from oslo_serialization import jsonutils

from notifier import exception

LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_CACHE = {}


class SecretsUnreadable(exception.NotifierException):
    msg_fmt = ('Stored secrets cannot be decrypted with the configured '
               '[secrets] encryption_keys: the operator must restore the key '
               'they were encrypted with (keep old keys after the first one '
               'while rotating).')


def _key_file_key(conf):
    path = os.path.join(conf.state_path, 'secret.key')
    with _LOCK:
        if not os.path.exists(path):
            os.makedirs(conf.state_path, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'wb') as f:
                f.write(fernet.Fernet.generate_key())
            LOG.warning('Generated the encryption key file %s; set '
                        '[secrets] encryption_keys on every node of a '
                        'multi-node deployment instead.', path)
        with open(path, 'rb') as f:
            return f.read().strip().decode()


def _cipher(conf):
    keys = tuple(conf.secrets.encryption_keys)
    if not keys:
        if not (conf.database.connection or '').startswith('sqlite'):
            # Several nodes must share one key; a generated one is per node.
            raise exception.Invalid(
                reason='secrets cannot be stored until the operator sets '
                       '[secrets] encryption_keys (the same on every API '
                       'and engine node).')
        keys = (_key_file_key(conf),)
    if keys not in _CACHE:
        try:
            _CACHE[keys] = fernet.MultiFernet(
                [fernet.Fernet(k.encode()) for k in keys])
        except ValueError:
            raise exception.Invalid(
                reason='[secrets] encryption_keys holds a value that is not '
                       'a Fernet key (urlsafe base64 of 32 bytes).')
    return _CACHE[keys]


def encrypt(conf, values):
    """A Fernet token of ``values`` (a dict), or None if it is empty."""
    if not values:
        return None
    return _cipher(conf).encrypt(jsonutils.dump_as_bytes(values)).decode()


def decrypt(conf, token):
    if not token:
        return {}
    try:
        return jsonutils.loads(_cipher(conf).decrypt(token.encode()))
    except fernet.InvalidToken:
        raise SecretsUnreadable()
