import warnings

# Some libraries (futurist) probe for eventlet when it happens to be
# installed; Notifier never uses it, so its deprecation notice is noise.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

# Notifier runs on oslo.service's threading backend: no eventlet anywhere.
# It must be chosen before oslo_service.service is first imported.
from oslo_service import backend as _backend  # noqa: E402

try:
    _backend.init_backend(_backend.BackendType.THREADING)
except _backend.exceptions.BackendAlreadySelected:
    # A tool that imported oslo.service before us (oslo-config-generator
    # loading oslo.messaging's options) chose already; it runs none of our
    # services. Notifier's own commands import this package first.
    pass
