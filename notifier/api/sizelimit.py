"""Request body size limit with a JSON fault.

oslo.middleware's RequestBodySizeLimiter answers an oversize request with a
plain-text 413 (and a message with an unfilled placeholder); clients of this
API parse every error as a JSON fault body, so this filter answers that
case itself, saying what the limit is and where it is set. A chunked body
without Content-Length is cut off by oslo's reader when the handler reads
past the limit, which the handler wrapper also turns into a JSON 413.
"""

import webob

from oslo_log import log as logging
from oslo_middleware import sizelimit

from notifier.api import wsgi

LOG = logging.getLogger(__name__)


class RequestBodySizeLimiter(sizelimit.RequestBodySizeLimiter):

    # A plain WSGI filter: webob's request and response wrapping of
    # wsgify, for a check of one header, cost more than the check.
    def __call__(self, environ, start_response):
        req = webob.Request(environ)
        max_size = self._conf_get('max_request_body_size')
        if req.content_length is not None and req.content_length > max_size:
            LOG.info('Refused a %(size)d-byte request body to %(path)s: '
                     'the limit is %(max)d bytes',
                     {'size': req.content_length, 'path': req.path,
                      'max': max_size})
            return wsgi.fault(
                req, 413, 'The request body is %d bytes, more than the %d '
                'bytes this API accepts ([oslo_middleware] '
                'max_request_body_size); send a smaller body.' % (
                    req.content_length, max_size))(environ, start_response)
        if req.content_length is None:
            req.body_file = sizelimit.LimitingReader(req.body_file, max_size)
        return self.application(environ, start_response)
