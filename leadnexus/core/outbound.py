"""Requests the server makes to URLs its users give (outbound webhooks), DESIGN §4.

Only http and https; only to public addresses, unless a setting lists the host, the address
or its network (a local receiver in tests, a service on the deployment's own network). The
connection goes to the very address that was checked, so a name cannot resolve somewhere
else in between (DNS rebinding); TLS still verifies the certificate for the name. Redirects
are not followed: where one leads was never checked.
"""

import http.client
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundError(Exception):
    """A call that did not happen or got no answer; the message says why, for the person
    who gave the URL."""


class DestinationRefused(OutboundError):
    """The URL may not be called."""


class Unreachable(OutboundError):
    """No answer: refused, timed out, a TLS failure, or not HTTP."""


@dataclass(frozen=True)
class Destination:
    url: str
    host: str
    port: int
    address: str  # the checked address the connection goes to
    https: bool
    target: str  # path and query


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str  # the start of the body


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to. Tests replace it: no test reaches DNS."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _non_public(address: IPAddress) -> str:
    """What kind of address this is when it is not a public one, else ""."""
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:10.0.0.1 is 10.0.0.1
    kinds = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),
    )
    return next((kind for kind, matches in kinds if matches), "")


def _allowed(host: str, address: IPAddress, allowed: Iterable[str]) -> bool:
    for entry in allowed:
        entry = entry.strip().lower()
        if entry == host:
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:  # a host name entry
            continue
    return False


def destination_check(url: str, *, allowed: Iterable[str] = ()) -> Destination:
    """Where `url` may be called, or DestinationRefused. `allowed`: host names, addresses
    and networks (CIDR) let through although not public."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DestinationRefused("The URL is not valid.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused("Use an http:// or https:// URL with a host name.")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("Leave credentials out of the URL; receivers check the signature instead.")
    host = parts.hostname.lower()
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            raise DestinationRefused(f"{host} could not be resolved.") from None
    if not addresses:
        raise DestinationRefused(f"{host} could not be resolved.")
    allowed = list(allowed)
    for text in addresses:
        address = ipaddress.ip_address(text)
        kind = _non_public(address)
        if kind and not _allowed(host, address, allowed):
            raise DestinationRefused(
                f"{host} resolves to a {kind} address ({text}); webhooks go to public addresses only."
            )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(url, host, port, addresses[0], parts.scheme == "https", target)


def _connection(destination: Destination, timeout: float) -> http.client.HTTPConnection:
    cls = http.client.HTTPSConnection if destination.https else http.client.HTTPConnection
    connection = cls(destination.host, destination.port, timeout=timeout)

    # http.client connects through this hook; pin it to the checked address.
    def connect_pinned(address, *args, **kwargs):
        return socket.create_connection((destination.address, address[1]), *args, **kwargs)

    connection._create_connection = connect_pinned
    return connection


def post(destination: Destination, *, body: bytes, headers: dict[str, str], timeout: float, excerpt: int) -> Answer:
    """POST `body` to a checked destination and read the first `excerpt` characters of the
    answer, whatever its status; Unreachable when there is no answer."""
    connection = _connection(destination, timeout)
    try:
        connection.request("POST", destination.target, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(excerpt * 4).decode("utf-8", errors="replace")[:excerpt]
    except (OSError, http.client.HTTPException) as exc:
        raise Unreachable(f"{type(exc).__name__}: {exc}"[:1000]) from exc
    finally:
        connection.close()
    return Answer(response.status, text)
