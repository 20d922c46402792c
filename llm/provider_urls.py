"""Which base URLs a provider config may send requests to: the guard against SSRF through a config.

Only an admin sets a base URL (the admin's provider config form; the JSON API never takes one), and
it is checked twice: when the config is validated, and again each time a provider is made from it, so
a row edited straight in the database is caught too. Host names are resolved and every address checked.

- http:// and https:// only; no user name or password, backslash, whitespace or control character in
  the URL (they are where URL parsers disagree about which host is meant).
- Link-local addresses (169.254.0.0/16, fe80::/10) and cloud metadata endpoints (169.254.169.254,
  fd00:ec2::254, metadata.google.internal, …) are refused, unless CONDUCTOR_ALLOW_LINK_LOCAL_PROVIDER_URLS.
- Loopback and private addresses are allowed, because Ollama and vLLM usually run on localhost or the
  local network; CONDUCTOR_ALLOW_PRIVATE_PROVIDER_URLS=0 refuses them for deployments that only use
  vendors on the internet.
- Multicast and reserved addresses (224.0.0.0/4, 240.0.0.0/4, …) are always refused.

A name that does not resolve passes (nothing can be reached through it now). The check cannot stop DNS
rebinding between the check and the connection; block 169.254.0.0/16 on the host's egress too.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTS = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean…
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure host services
        "192.0.0.192",  # Oracle Cloud
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeProviderURLError(ValueError):
    """A base URL a provider must not be pointed at; the message says why and what is allowed."""


def check_provider_base_url(url: str) -> None:
    """Raise UnsafeProviderURLError unless `url` is an http(s) URL whose host is allowed (see the module)."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in url):
        raise UnsafeProviderURLError("The base URL must not contain whitespace, control characters or backslashes.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeProviderURLError(f"The base URL does not parse: {exc}.") from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise UnsafeProviderURLError(f"The base URL must start with http:// or https://, not {parts.scheme!r}://.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeProviderURLError(
            "The base URL must not contain a user name or password; give the key in the config's key fields."
        )
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeProviderURLError("The base URL must name a host.")
    if host in METADATA_HOSTS and not _allow_link_local():
        raise UnsafeProviderURLError(_metadata_refusal(host))
    for address in _addresses(host, port or _DEFAULT_PORTS[parts.scheme]):
        if problem := _address_problem(address):
            shown = host if host == str(address) else f"{host} ({address})"
            raise UnsafeProviderURLError(f"The base URL's host {shown} is {problem}")


def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        return [_unwrap(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []  # unresolvable now: nothing to reach; it is checked again when a provider is made
    # sockaddr[0] may carry an IPv6 zone ("fe80::1%eth0"), which ip_address accepts.
    return [_unwrap(ipaddress.ip_address(sockaddr[0])) for *_, sockaddr in found]


def _unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address behind an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _address_problem(address: IPAddress) -> str | None:
    if address in METADATA_ADDRESSES or address.is_link_local:
        if _allow_link_local():
            return None
        kind = "a cloud metadata address" if address in METADATA_ADDRESSES else "a link-local address"
        return (
            f"{kind}, which a provider may not be pointed at "
            "(set CONDUCTOR_ALLOW_LINK_LOCAL_PROVIDER_URLS=1 if this is really a model server)."
        )
    if address.is_multicast or (address.is_reserved and not (address.is_loopback or address.is_unspecified)):
        return "a multicast or reserved address, which no model server has."
    if address.is_global:
        return None
    if settings.CONDUCTOR_ALLOW_PRIVATE_PROVIDER_URLS:
        return None
    return (
        "a loopback or private-network address, and CONDUCTOR_ALLOW_PRIVATE_PROVIDER_URLS is off; "
        "point the config at a public server, or turn the setting on."
    )


def _allow_link_local() -> bool:
    return bool(settings.CONDUCTOR_ALLOW_LINK_LOCAL_PROVIDER_URLS)


def _metadata_refusal(host: str) -> str:
    return (
        f"The base URL's host {host} is a cloud metadata service, which a provider may not be pointed at "
        "(set CONDUCTOR_ALLOW_LINK_LOCAL_PROVIDER_URLS=1 if this is really a model server)."
    )
