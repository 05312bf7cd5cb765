"""The transport adapter that enforces the outbound policy on every connection it opens.

`GuardedAdapter` is the `requests` adapter of every `ApiClient` session. Its urllib3 connections
resolve the host themselves, refuse the connection (raising `AddressRefusedError` before anything is
sent) unless every address the name resolves to is allowed, connect only to those addresses, and check
the connected socket's peer address again. Redirects are followed through the same adapter, so each
hop is checked as it is connected to. A request handed to a proxy (`HTTP_TRUST_ENV`) is resolved and
checked here first, since the proxy, not us, then opens the connection to the target.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family
from urllib3.util.timeout import Timeout

from integrations.connectors.errors import AddressRefusedError
from integrations.outbound import OutboundPolicy


class _GuardedConnection:
    """Opens the socket as urllib3 does, but only to addresses the policy allows."""

    url_scheme: str
    outbound_policy: OutboundPolicy

    def __init__(self, *args: Any, outbound_policy: OutboundPolicy, **kwargs: Any) -> None:
        self.outbound_policy = outbound_policy
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        policy, host = self.outbound_policy, self.host
        try:
            self._dns_host.encode("idna")
        except UnicodeError:
            raise LocationParseError(f"'{self._dns_host}', label empty or too long") from None
        try:
            answers = socket.getaddrinfo(
                self._dns_host.strip("[]"), self.port, allowed_gai_family(), socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise NameResolutionError(host, self, exc) from exc
        policy.check_resolved(host, [answer[4][0] for answer in answers])
        policy.check_scheme(self.url_scheme, host)
        try:
            sock = self._connect_first(answers)
        except TimeoutError as exc:
            message = f"Connection to {host} timed out. (connect timeout={self.timeout})"
            raise ConnectTimeoutError(self, message) from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc
        try:
            policy.check_resolved(host, [sock.getpeername()[0]])
        except AddressRefusedError:
            sock.close()
            raise
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock

    def _connect_first(self, answers: list) -> socket.socket:
        """A socket connected to the first of `answers` that accepts (as urllib3's create_connection)."""
        error: OSError = OSError(f"{self.host} resolved to no address")
        for family, kind, proto, _name, address in answers:
            sock = socket.socket(family, kind, proto)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if self.timeout is not Timeout.DEFAULT_TIMEOUT:
                    sock.settimeout(self.timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(address)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
        raise error


class GuardedHTTPConnection(_GuardedConnection, HTTPConnection):
    url_scheme = "http"


class GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    url_scheme = "https"


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedPoolManager(PoolManager):
    """A pool manager whose pools open only guarded connections bound to one policy."""

    def __init__(self, *args: Any, outbound_policy: OutboundPolicy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outbound_policy = outbound_policy
        self.pool_classes_by_scheme = {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}

    def _new_pool(self, scheme: str, host: str, port: int, request_context: dict | None = None) -> HTTPConnectionPool:
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.conn_kw["outbound_policy"] = self.outbound_policy
        return pool


class GuardedAdapter(HTTPAdapter):
    """`HTTPAdapter` with the policy on every connection (see the module docstring)."""

    def __init__(self, outbound_policy: OutboundPolicy, **kwargs: Any) -> None:
        self.outbound_policy = outbound_policy
        super().__init__(**kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        self._pool_connections, self._pool_maxsize, self._pool_block = connections, maxsize, block
        self.poolmanager = GuardedPoolManager(
            num_pools=connections, maxsize=maxsize, block=block, outbound_policy=self.outbound_policy, **pool_kwargs
        )

    def send(self, request: requests.PreparedRequest, *args: Any, proxies: Any = None, **kwargs: Any):
        if proxies and select_proxy(request.url, proxies):
            try:
                self.outbound_policy.check_url(request.url)
            except socket.gaierror as exc:  # what cannot be checked is not handed over
                raise requests.exceptions.ConnectionError(
                    f"Failed to resolve {request.url}: the address must resolve here to be checked ({exc})",
                    request=request,
                ) from exc
        return super().send(request, *args, proxies=proxies, **kwargs)
