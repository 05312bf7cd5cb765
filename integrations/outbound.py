"""Where outbound requests may go: the one policy the forms and every connector's HTTP client apply.

An address someone types (a connection's API base URL, Bergen's Account Web Address) is hostile until
checked: it must be https and reach only public addresses, or it could make us call (and show the
answer of) a host inside our network or the cloud's metadata service. The check runs when the address
is saved, with a message on the field, and again on every connection the client opens
(`outbound_adapter`): the name is resolved, every address it resolves to is checked, the socket connects
only to a checked address and its peer is checked again, because DNS can answer differently between
the save and the request.

The exceptions, each limited to what it is for:
- a connection made by the project's own sandbox tooling (demo, chaos, bench), marked `sandbox_tooling`
  on the row, while the sandbox app is installed;
- an API base URL (which only staff can set) while `SANDBOX_ENABLED` is on;
- the hosts listed in `OUTBOUND_PRIVATE_HOSTS` (a self-hosted warehouse on a private network), still
  over https;
- an address the operator configured in the settings (`OPERATOR_CONFIGURED`).
Cloud metadata addresses are refused whatever the exception. An address a merchant types (they can
type only Bergen's Account Web Address) never gets one.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from urllib3.util import parse_url

from integrations.connectors.errors import AddressRefusedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services (credentials of the machine we run on): AWS, GCP, Azure, OpenStack,
# DigitalOcean (169.254.169.254), AWS ECS and EKS (169.254.170.2, 169.254.170.23), AWS over IPv6
# (fd00:ec2::254, fd00:ec2::23), Alibaba Cloud (100.100.100.200), Oracle Cloud (192.0.0.192).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",
        "100.100.100.200",
        "192.0.0.192",
        "fd00:ec2::254",
        "fd00:ec2::23",
    )
)
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")  # IPv4 in the last 32 bits (RFC 6052)
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT (RFC 2765)
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated IPv4-compatible form


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, translated, NAT64), if any."""
    if ip.version == 4:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in IPV4_COMPATIBLE or ip in IPV4_TRANSLATED or ip in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _kind(ip: IPAddress) -> str | None:
    """What keeps one address (no embedded IPv4 considered) off the public internet, or None."""
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.version == 4 and ip in SHARED_ADDRESS_SPACE:
        return "a shared (carrier-grade NAT) address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


def non_public_kind(ip: IPAddress) -> str | None:
    """Why `ip` is not a public internet address ("a loopback address", ...), or None when it is.

    An IPv6 address that carries an IPv4 one is judged by that IPv4 address (the host it reaches);
    6to4 and Teredo addresses are refused when the IPv4 address they name is not public."""
    if ip.version == 6 and (ip.is_loopback or ip.is_unspecified or ip in METADATA_ADDRESSES):
        return _kind(ip)
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        kind = _kind(embedded)
        return f"{kind} (inside an IPv6 address)" if kind else None
    if ip.version == 6:
        for carried in (ip.sixtofour, *(ip.teredo or ())):
            if carried is not None and _kind(carried):
                return f"{_kind(carried)} (inside an IPv6 address)"
    return _kind(ip)


def parse_ip(text: str) -> IPAddress | None:
    """An address as a socket reports it (an IPv6 zone such as %eth0 dropped), or None."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0].strip("[]"))
    except ValueError:
        return None


def normalized_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class OutboundPolicy:
    """Where one client's requests may go.

    `private_ok`: loopback, private and plain-http addresses too (never a cloud metadata address);
    `private_hosts`: host names (or literal addresses) that may resolve to private addresses, over https.
    """

    private_ok: bool = False
    private_hosts: frozenset[str] = frozenset()

    def scheme_refusal(self, scheme: str) -> str | None:
        if scheme == "https" or (scheme == "http" and self.private_ok):
            return None
        return f"only https:// addresses can be used, not {scheme}://"

    def address_refusal(self, host: str, ip: IPAddress) -> str | None:
        """Why the client may not connect to `ip` for `host`, or None."""
        kind = non_public_kind(ip)
        if kind is None:
            return None
        metadata = kind.startswith("a cloud metadata address")  # never reachable, whatever the exception
        if not metadata and (self.private_ok or normalized_host(host) in self.private_hosts):
            return None
        literal = parse_ip(host) is not None
        where = f"{host} is {kind}" if literal else f"{host} resolves to {kind}"
        return f"{where}: only addresses on the public internet can be reached"

    def resolved_refusal(self, host: str, addresses: Iterable[str]) -> str | None:
        """The first refusal among the addresses `host` resolved to (one refused address refuses the
        name: an answer that mixes public and private addresses is how DNS rebinding starts)."""
        for text in addresses:
            ip = parse_ip(text)
            if ip is None:
                return f"{host} resolved to something that is not an IP address"
            refusal = self.address_refusal(host, ip)
            if refusal:
                return refusal
        return None

    def check_resolved(self, host: str, addresses: Iterable[str]) -> None:
        refusal = self.resolved_refusal(host, addresses)
        if refusal:
            raise AddressRefusedError(refusal)

    def check_scheme(self, scheme: str, host: str) -> None:
        refusal = self.scheme_refusal(scheme)
        if refusal:
            raise AddressRefusedError(f"{host}: {refusal}")

    def check_url(self, url: str) -> None:
        """Raise `AddressRefusedError` unless `url` may be requested now. Resolves its host (raising
        `socket.gaierror` when it does not resolve): for requests whose connection is not ours to
        open, such as one handed to a proxy."""
        parsed = parse_url(url)
        host = parsed.host or ""
        self.check_scheme(parsed.scheme or "", host)
        self.check_resolved(host, resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80)))


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, through `socket.getaddrinfo` as a connection resolves it."""
    return [info[4][0] for info in socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)]


# The operator's own configuration (a URL in the settings) and the project's sandbox tooling.
OPERATOR_CONFIGURED = OutboundPolicy(private_ok=True)
SANDBOX_TOOLING = OPERATOR_CONFIGURED


def public_only() -> OutboundPolicy:
    """The default: public https addresses, and the hosts of `OUTBOUND_PRIVATE_HOSTS`."""
    return OutboundPolicy(private_hosts=frozenset(normalized_host(h) for h in settings.OUTBOUND_PRIVATE_HOSTS if h))


def sandbox_tooling_honoured() -> bool:
    """A connection's sandbox-tooling mark counts only where the sandbox app is installed."""
    return apps.is_installed("sandbox")


def api_base_url_policy(connection: Any) -> OutboundPolicy:
    """Where a connection's API base URL may point. Only staff and the sandbox tooling set it (a
    merchant cannot): a sandbox while `SANDBOX_ENABLED` is on or the row is the tooling's own."""
    if settings.SANDBOX_ENABLED or (connection.sandbox_tooling and sandbox_tooling_honoured()):
        return OPERATOR_CONFIGURED
    return public_only()


def connection_policy(connection: Any) -> OutboundPolicy:
    """Where a connection's requests may go. Without an API base URL it calls the platform's own
    address or the one the merchant gave (Bergen's Account Web Address): public addresses only."""
    return api_base_url_policy(connection) if connection.api_base_url else public_only()


def typed_address_refusal(url: str, policy: OutboundPolicy) -> str | None:
    """Why an address typed on a form cannot be saved, or None.

    A name that does not resolve now is accepted: every request checks it again."""
    url = url.strip()
    try:
        parsed = parse_url(url if "://" in url else f"https://{url}")  # as Bergen reads a bare host
    except ValueError:
        return "This is not a valid address."
    if not parsed.host:
        return "Enter a full address, such as https://www.example.com"
    if parsed.auth:
        return "Leave any user name and password out of the address (enter them as the credentials)."
    if policy.scheme_refusal(parsed.scheme or ""):
        return f"Use an https:// address (not {parsed.scheme}://)."
    try:
        addresses = resolve(parsed.host, parsed.port or 443)
    except (socket.gaierror, UnicodeError):
        return None
    refusal = policy.resolved_refusal(parsed.host, addresses)
    return f"{refusal}." if refusal else None
