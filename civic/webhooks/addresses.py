"""Where webhooks may go: https in production, and never to private, loopback or link-local addresses.

The check runs when an endpoint is saved and again before every attempt, because DNS can change
after the URL was accepted. The attempt then connects to the very address that was checked
(see `Destination`), so a name that resolves differently a moment later cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from civic import config

URL_LIMIT = 500


class RefusedAddress(Exception):
    """The URL is not one we will send to; the message says why, in words an administrator can act on."""


@dataclass(frozen=True)
class Destination:
    """A checked URL and the address to connect to."""

    url: str
    host: str
    port: int
    address: str

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address (TLS still checks the certificate for `host`)."""
        parts = urlsplit(self.url)
        address = f"[{self.address}]" if ":" in self.address else self.address
        return parts._replace(netloc=f"{address}:{self.port}").geturl()

    @property
    def host_header(self) -> str:
        parts = urlsplit(self.url)
        default = 443 if parts.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def check_form(url: str) -> str:
    """The URL, tidied, if its form is acceptable: scheme, host, no credentials. Raises RefusedAddress."""
    url = (url or "").strip()
    if not url:
        raise RefusedAddress("Enter the web address of the team's case system")
    if len(url) > URL_LIMIT:
        raise RefusedAddress(f"The web address must be {URL_LIMIT} characters or fewer")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedAddress("Enter a web address like https://cases.example.org/civic/webhooks") from None
    production = config.current().production
    if parts.scheme != "https" and (production or parts.scheme != "http"):
        raise RefusedAddress("The web address must start with https://")
    if not parts.hostname:
        raise RefusedAddress("Enter a web address like https://cases.example.org/civic/webhooks")
    if parts.username or parts.password:
        raise RefusedAddress("The web address must not contain a user name or password: use the signing secret instead")
    if parts.fragment:
        raise RefusedAddress("The web address must not contain a # part")
    if port == 0:
        raise RefusedAddress("The web address has no usable port")
    return url


# RFC 6052's well-known NAT64 prefix: a gateway hands a packet to the IPv4 address in the last 32 bits.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _carried_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4 or NAT64 address leads to: somewhere inside our network, it may be."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why this address is refused, or '' if it is a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _refused(address.ipv4_mapped)  # a socket to ::ffff:a.b.c.d is one to a.b.c.d
        carried = _carried_ipv4(address)
        if carried is not None and (why := _refused(carried)):
            return why
        # Deprecated (RFC 3879), yet still routed inside some networks; Python counts it as global.
        if address.is_site_local:
            return "a site-local address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved or address.is_unspecified or not address.is_global:
        return "a reserved address"
    return ""


async def _resolve(host: str, port: int) -> list[str]:
    try:
        literal = ipaddress.ip_address(host)
        return [str(literal)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedAddress(f"{host} could not be found (DNS lookup failed)") from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RefusedAddress(f"{host} could not be found (DNS lookup failed)")
    return addresses


async def destination(url: str) -> Destination:
    """Check the URL and resolve its host; every address it resolves to must be public unless configured otherwise."""
    url = check_form(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _resolve(host, port)
    if not config.current().allow_private_webhook_urls:
        for address in addresses:
            why = _refused(ipaddress.ip_address(address))
            if why:
                # One bad answer is enough: a name that also resolves inward could be steered there.
                raise RefusedAddress(f"{host} resolves to {why} ({address}); webhooks go only to public addresses")
    return Destination(url=url, host=host, port=port, address=addresses[0])
