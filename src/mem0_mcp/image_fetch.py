"""Fetching an image URL given to ``add``, without letting a caller reach into the network
the server runs in.

Only with ``fetch_image_urls`` (off by default). Every hop — the URL and each redirect —
is checked before any connection is made: ``http`` / ``https`` only, and the host must
resolve to a public address (or one in ``image_fetch_private_networks``); loopback, private,
link-local (cloud metadata at 169.254.169.254), shared, multicast and reserved addresses are
refused. The connection then goes to the checked address itself (the host name kept in the
``Host`` header and, for https, in TLS's SNI and certificate check), so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot redirect it. Proxies
from the environment are not used (they would connect on our behalf, unchecked).

Bounds: ``image_fetch_timeout`` for the whole fetch, redirects included; at most
``MAX_REDIRECTS`` redirects; ``image_max_bytes`` read at most (a larger ``Content-Length``
is refused before reading). Every failure is an ``InvalidInputError`` naming the field.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

import httpx

from .config import MemoryConfig
from .errors import InvalidInputError

MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


async def fetch(url: str, field: str, config: MemoryConfig) -> bytes:
    """The body of ``url`` (after at most ``MAX_REDIRECTS`` checked redirects), at most
    ``image_max_bytes`` long. Raises ``InvalidInputError(field, ...)``: a scheme other than
    http(s), an address that is not allowed, a redirect loop, an HTTP error status, a body
    over the limit, a timeout or a connection failure."""
    try:
        async with asyncio.timeout(config.image_fetch_timeout):
            return await _follow(httpx.URL(url), field, config)
    except TimeoutError:
        raise InvalidInputError(
            field,
            f"fetching {_short(url)} took over {config.image_fetch_timeout:g} s "
            "(MEM0_MCP_IMAGE_FETCH_TIMEOUT); send the image as a data: URI instead",
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise InvalidInputError(
            field, f"could not fetch {_short(url)}: {type(exc).__name__}: {exc}"
        ) from None


async def _follow(url: httpx.URL, field: str, config: MemoryConfig) -> bytes:
    limits = httpx.Timeout(config.image_fetch_timeout)
    async with httpx.AsyncClient(timeout=limits, follow_redirects=False, trust_env=False) as client:
        for hop in range(MAX_REDIRECTS + 1):
            address = await checked_address(url, field, config, redirected=hop > 0)
            async with client.stream(**_pinned(url, address)) as response:
                if response.is_redirect and "location" in response.headers:
                    url = url.join(response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise InvalidInputError(
                        field, f"fetching {_short(str(url))} gave HTTP {response.status_code}"
                    )
                return await _read_capped(response, field, config.image_max_bytes)
    raise InvalidInputError(field, f"the image URL redirects more than {MAX_REDIRECTS} times")


async def checked_address(
    url: httpx.URL, field: str, config: MemoryConfig, *, redirected: bool = False
) -> IPAddress:
    """The address to connect to for ``url``: the first one its host resolves to that is
    allowed (``allowed``). Raises ``InvalidInputError`` for a scheme other than http(s), a
    host that does not resolve, or one that resolves to no allowed address."""
    where = "redirects to" if redirected else "points to"
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidInputError(
            field, f"the image URL {where} {_short(str(url))}; only http(s) URLs are fetched"
        )
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            url.host, port, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise InvalidInputError(field, f"cannot resolve {url.host!r}: {exc}") from None
    found = [_address(str(info[4][0])) for info in infos]
    for address in found:
        if allowed(address, config.image_fetch_private_networks):
            return address
    shown = ", ".join(sorted({str(a) for a in found}))
    raise InvalidInputError(
        field,
        f"the image URL {where} {url.host} ({shown}), not a public address; images are "
        "fetched from public addresses only (MEM0_MCP_IMAGE_FETCH_PRIVATE_NETWORKS lists "
        "networks to allow besides)",
    )


def allowed(address: IPAddress, networks: Sequence[Network]) -> bool:
    """Whether an image may be fetched from ``address``: a globally routable unicast
    address, or one inside ``networks``."""
    if any(address in network for network in networks):
        return True
    return address.is_global and not address.is_multicast


def _address(text: str) -> IPAddress:
    address = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone id is not ours
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return address


def _pinned(url: httpx.URL, address: IPAddress) -> dict[str, Any]:
    """``client.stream`` arguments for a GET of ``url`` connecting to ``address``."""
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return {
        "method": "GET",
        "url": url.copy_with(host=str(address)),
        "headers": {"Host": url.netloc.decode("ascii"), "Accept": "image/*"},
        "extensions": extensions,
    }


async def _read_capped(response: httpx.Response, field: str, limit: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidInputError(field, too_large(limit))
    body = bytearray()
    async for chunk in response.aiter_bytes(_CHUNK):
        body += chunk
        if len(body) > limit:
            raise InvalidInputError(field, too_large(limit))
    return bytes(body)


def too_large(limit: int) -> str:
    """The error message for an image over ``image_max_bytes``."""
    return (
        f"the image is over the {limit}-byte limit (MEM0_MCP_IMAGE_MAX_BYTES); send a smaller image"
    )


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:119] + "…"
