from oslo_config import cfg

GROUP = 'secrets'

opts = [
    cfg.ListOpt('encryption_keys',
                default=[],
                secret=True,
                help='Fernet keys (urlsafe base64 of 32 bytes; make one '
                     'with: python3 -c "from cryptography.fernet import '
                     'Fernet; print(Fernet.generate_key().decode())") '
                     'that encrypt destination secrets (tokens, webhook '
                     'URLs and signing secrets) in the database. The first '
                     'key encrypts; every key decrypts, so a key can be '
                     'rotated by putting the new one first. Every API and '
                     'engine process must have the same keys. When empty, '
                     'a key is generated once into $state_path/secret.key, '
                     'which suits a single node only.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
