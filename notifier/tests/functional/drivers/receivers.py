"""Real receivers on loopback for the drivers' functional tests: an SMTP
server (aiosmtpd), a threaded HTTP server, and a self-signed certificate."""

import asyncio
import dataclasses
import datetime
import http.server
import ipaddress
import json
import os
import socket
import ssl
import threading

from aiosmtpd import controller
from aiosmtpd import smtp as aiosmtpd_smtp
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509.oid import NameOID
import fixtures


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Certificate(fixtures.Fixture):
    """A self-signed certificate for localhost and 127.0.0.1: ``cert_file``
    (also the CA file a client trusts) and ``key_file``."""

    def _setUp(self):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                             'localhost')])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(hours=1))
                .add_extension(x509.SubjectAlternativeName([
                    x509.DNSName('localhost'),
                    x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                    critical=False)
                .add_extension(x509.BasicConstraints(ca=True,
                                                     path_length=None),
                               critical=True)
                .sign(key, hashes.SHA256()))
        directory = self.useFixture(fixtures.TempDir()).path
        self.cert_file = os.path.join(directory, 'cert.pem')
        self.key_file = os.path.join(directory, 'key.pem')
        with open(self.cert_file, 'wb') as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(self.key_file, 'wb') as f:
            f.write(key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))

    def server_context(self):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@dataclasses.dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list
    content: bytes
    tls: bool
    login: bytes | None


class _SMTPHandler:

    def __init__(self):
        self.messages = []
        self.rcpt_replies = {}
        self.data_reply = '250 2.0.0 Ok: queued as 4BX3KQ'
        # Seconds each DATA takes, and the most sessions seen in it at once.
        self.data_delay = 0
        self.in_data = self.most_in_data = 0

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return '250 2.1.5 Ok'

    async def handle_DATA(self, server, session, envelope):
        self.in_data += 1
        self.most_in_data = max(self.most_in_data, self.in_data)
        try:
            await asyncio.sleep(self.data_delay)
        finally:
            self.in_data -= 1
        if self.data_reply.startswith('250'):
            self.messages.append(ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.original_content,
                tls=session.ssl is not None,
                login=getattr(session.auth_data, 'login', None)))
        return self.data_reply


class SMTPServer(fixtures.Fixture):
    """aiosmtpd on 127.0.0.1.

    ``starttls`` offers (and requires) STARTTLS with ``certificate``;
    ``implicit_tls`` speaks TLS from the first byte; ``users`` (login to
    password, bytes) requires a login. ``handler.rcpt_replies`` (address to
    reply) and ``handler.data_reply`` script the server's answers;
    ``handler.messages`` are the mails it accepted.
    """

    def __init__(self, certificate=None, starttls=False, implicit_tls=False,
                 users=None):
        self.certificate = certificate
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.users = users

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, aiosmtpd_smtp.LoginPassword) and
              self.users.get(auth_data.login) == auth_data.password)
        return aiosmtpd_smtp.AuthResult(success=ok, handled=False,
                                        auth_data=auth_data)

    def _setUp(self):
        self.handler = _SMTPHandler()
        kwargs = {'server_hostname': 'localhost', 'ready_timeout': 5}
        if self.starttls:
            kwargs.update(tls_context=self.certificate.server_context(),
                          require_starttls=True)
        if self.implicit_tls:
            kwargs['ssl_context'] = self.certificate.server_context()
        if self.users:
            kwargs.update(authenticator=self._authenticate,
                          auth_require_tls=True)
        self.port = free_port()
        self.controller = controller.Controller(
            self.handler, hostname='127.0.0.1', port=self.port,
            loop=asyncio.new_event_loop(), **kwargs)
        self.controller.start()
        self.addCleanup(self.controller.stop)

    @property
    def messages(self):
        return self.handler.messages


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class HTTPReceiver(fixtures.Fixture):
    """A threaded HTTP/1.1 server on 127.0.0.1 that records each request in
    ``requests`` and answers what ``handle(request)`` returns: ``(status,
    headers, body)``, body bytes or a JSON-able value. With a
    :class:`Certificate`, it speaks HTTPS."""

    def __init__(self, handle, certificate=None):
        self.handle = handle
        self.certificate = certificate

    def _setUp(self):
        self.requests = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                request = Request(self.command, self.path,
                                  dict(self.headers.items()),
                                  self.rfile.read(length))
                receiver.requests.append(request)
                status, headers, body = receiver.handle(request)
                headers = dict(headers)
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                    headers.setdefault('Content-Type', 'application/json')
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            # As a real server's: an engine opens up to [engine]
            # delivery_threads connections at once.
            request_queue_size = 128

        self.server = Server(('127.0.0.1', 0), Handler)
        scheme = 'http'
        if self.certificate is not None:
            self.server.socket = self.certificate.server_context().wrap_socket(
                self.server.socket, server_side=True)
            scheme = 'https'
        thread = threading.Thread(target=self.server.serve_forever,
                                  kwargs={'poll_interval': 0.05},
                                  daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.port = self.server.server_address[1]
        self.url = '%s://127.0.0.1:%d' % (scheme, self.port)
