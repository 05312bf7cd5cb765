"""Fixtures of the outbound-policy tests: name resolution under the test's control, a listener that
records whether anything reached it, and an HTTPS server with a certificate a test's client trusts.

Names are answered by replacing `socket.getaddrinfo` (the standard library's resolver, which both the
forms and the guarded connections call), so a name can resolve to a public address when it is saved
and to a loopback one when it is requested, as a hostile DNS server would answer.
"""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@pytest.fixture
def fake_dns(monkeypatch) -> dict[str, list[str]]:
    """name -> the addresses it resolves to (change them mid-test); other names resolve as usual."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.rstrip(".").lower() if isinstance(host, str) else host
        if name not in answers:
            return real(host, port, family, type, proto, flags)
        found = []
        for address in answers[name]:
            af = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family in (0, socket.AF_UNSPEC, af):
                sockaddr = (address, int(port or 0), 0, 0) if af == socket.AF_INET6 else (address, int(port or 0))
                found.append((af, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return found

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


PROBE = b"probe from the test itself"


@dataclass
class Listener:
    """A loopback TCP port that records the first bytes of every connection it accepts."""

    sock: socket.socket
    received: list[bytes] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def connections(self) -> list[bytes]:
        """What every connection made so far sent: a probe connection of our own is made and waited
        for, so that any earlier one (accepted in order) has been recorded too."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as probe:
            probe.sendall(PROBE)
            deadline = time.monotonic() + 5
            while PROBE not in self.received and time.monotonic() < deadline:
                time.sleep(0.01)
        assert PROBE in self.received, "the listener never saw the probe"
        return [data for data in self.received if data != PROBE]

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(4096))
                except OSError:
                    self.received.append(b"")


@pytest.fixture
def listener() -> Iterator[Listener]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    found = Listener(sock)
    threading.Thread(target=found.serve, daemon=True).start()
    yield found
    sock.close()


@dataclass
class Certificates:
    """A throwaway certificate authority and a server certificate it signed for some names."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_certificates(directory: Path, names: list[str]) -> Certificates:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Orderbridge test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    found = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    found.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    found.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return found


@dataclass
class HttpsServer:
    """An HTTPS server on loopback answering each path with what `answers` says (status, headers)."""

    certificates: Certificates
    port: int
    answers: dict[str, tuple[int, dict[str, str]]]
    paths: list[str]


@pytest.fixture
def https_server(tmp_path) -> Iterator[Callable[[list[str]], HttpsServer]]:
    """Start an HTTPS server whose certificate names the given host names (resolve them with `fake_dns`)."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(names: list[str]) -> HttpsServer:
        certificates = make_certificates(tmp_path, names)
        answers: dict[str, tuple[int, dict[str, str]]] = {}
        paths: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                status, headers = answers.get(self.path, (200, {"Content-Type": "application/json"}))
                body = b"{}" if status == 200 else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificates.cert_file, certificates.key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return HttpsServer(certificates, server.server_address[1], answers, paths)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
