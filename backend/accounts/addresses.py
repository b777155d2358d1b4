"""The client's address, as the audit trail and the sign-in throttle see it.

``REMOTE_ADDR`` is the peer of the web server: behind the documented nginx, that is nginx,
for every user. ``X-Forwarded-For`` names the client, but anyone can send that header, so it
is believed only when the request comes from a proxy listed in ``settings.TRUSTED_PROXIES``
(addresses or networks, ``MEDSAM_TRUSTED_PROXIES``). Then the header is read from the right
(each proxy appends the address it was connected from) and the first hop that is not itself a
trusted proxy is the client: entries to its left were written by the client and prove nothing.
"""
import ipaddress
from functools import lru_cache

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy.strip(), strict=False)
                 for proxy in proxies if proxy.strip())


def trusted_networks() -> tuple:
    return _networks(tuple(settings.TRUSTED_PROXIES))


def _parse(text: str | None) -> Address | None:
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(address: Address, networks) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(request) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or, when that is a trusted proxy, the right-most
    ``X-Forwarded-For`` hop that is not a trusted proxy. None when nothing valid is known."""
    remote = _parse(request.META.get("REMOTE_ADDR"))
    if remote is None:
        return None
    networks = trusted_networks()
    if not networks or not _is_trusted(remote, networks):
        return str(remote)
    client = remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
        address = _parse(hop)
        if address is None:  # garbage left of a trusted hop: stop at what a proxy wrote
            break
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)
