"""Stand-in for the agencies' mail servers: a real SMTP server that requires STARTTLS and
authentication, as a production relay would, and keeps what it receives.

Like a mail system that collapses a message sent twice with the same ``Message-ID``, it records
each message once and counts the repeats.
"""

import hashlib
import hmac
import logging
import ssl
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .config import StackConfig

SMTP_USER = "vigie"

# aiosmtpd warns, at every login, of an attribute it reads itself.
logging.getLogger("mail.log").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Tls:
    """The local stack's certificate authority and its servers' certificate (127.0.0.1 and
    localhost), made once: the mail server, PostgreSQL and Kafka's SASL_SSL listener present
    it, and the services verify it against the authority (``ca_file``)."""

    ca_file: Path
    chain_file: Path  # the server's private key and certificate chain, one PEM file

    @property
    def key_file(self) -> Path:
        """The server's private key alone, in PKCS#8 (what PostgreSQL and Kafka read)."""
        return self.chain_file.with_name("server.key")

    @property
    def cert_file(self) -> Path:
        """The server's certificate chain alone."""
        return self.chain_file.with_name("server.crt")

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.chain_file)
        return context

    def split(self) -> None:
        """Write the key and the certificates apart, from the one PEM file (once)."""
        if self.key_file.is_file() and self.cert_file.is_file():
            return
        pem = self.chain_file.read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.key_file.chmod(0o600)
        certificates = [c.public_bytes(serialization.Encoding.PEM) for c in x509.load_pem_x509_certificates(pem)]
        self.cert_file.write_bytes(b"".join(certificates))


def local_tls(config: StackConfig) -> Tls:
    """A certificate authority and a loopback server certificate of this stack's own, made once."""
    folder = config.state / "tls"
    tls = Tls(ca_file=folder / "ca.pem", chain_file=folder / "smtp.pem")
    if not tls.chain_file.is_file():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        ca = trustme.CA(organization_name="Vigie local stack")
        ca.cert_pem.write_to_path(str(tls.ca_file))
        ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(str(tls.chain_file))
        tls.chain_file.chmod(0o600)
    tls.split()
    return tls


def smtp_password(config: StackConfig) -> str:
    return config.secret("smtp.password")


_HEADERS = BytesHeaderParser()


def _parse(content: bytes) -> EmailMessage:
    message = message_from_bytes(content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


@dataclass
class Mailbox:
    port: int
    tls: Tls
    password: str
    folder: Path | None = None
    # The raw messages, parsed when read: parsing each as it arrives would make the stand-in cost
    # the machine more than the service it receives from (it shares the CPU in the benchmark).
    raw: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    duplicates: list[str] = field(default_factory=list)
    refused_logins: int = 0
    logins: int = 0
    _ids: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        expected = hashlib.sha256(f"{SMTP_USER}:{self.password}".encode()).digest()
        given = hashlib.sha256(data.login + b":" + data.password).digest()
        if hmac.compare_digest(expected, given):
            self.logins += 1
            return AuthResult(success=True)
        self.refused_logins += 1
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message_id = str(_HEADERS.parsebytes(envelope.content)["Message-ID"])
        with self._lock:
            if message_id in self._ids:
                self.duplicates.append(message_id)
                return "250 OK (already received)"
            self._ids.add(message_id)
            for address in envelope.rcpt_tos:
                self.raw[address.lower()].append(envelope.content)
        if self.folder is not None:
            name = message_id.strip("<>").replace("@", "_").replace("/", "_")
            (self.folder / f"{name}.eml").write_bytes(envelope.content)
        return "250 OK"

    # A method, not a property: aiosmtpd inspects its handler's members (properties evaluated)
    # at every connection, which would parse every message received so far each time.
    def messages(self, address: str) -> list[EmailMessage]:
        """The messages received for ``address``, parsed."""
        with self._lock:
            contents = list(self.raw.get(address.lower(), []))
        return [_parse(content) for content in contents]

    def start(self) -> None:
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=self.tls.server_context(),
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=self._authenticate,
            server_hostname="localhost",
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def subjects(self, address: str) -> list[str]:
        return [str(message["Subject"]) for message in self.messages(address)]
