"""Refuse any network connection that is not to this machine (stdlib only).

Peer libraries phone home on their own (mem0: PostHog telemetry and a notice config fetched
from GitHub; fastembed/huggingface_hub: model downloads on a cache miss). The environment set
by ``_common.peer_env`` turns those off, and this guard makes sure: imported first in a peer
process, it makes name resolution and ``connect`` fail for anything but loopback and Unix
sockets, so a forgotten switch shows up as a logged error instead of traffic.
"""

from __future__ import annotations

import ipaddress
import socket
import sys

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
blocked: list[str] = []


def _is_local(host: object) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): the wildcard / loopback of a server
    if isinstance(host, bytes):
        host = host.decode("ascii", "ignore")
    host = str(host).strip("[]").lower()
    if host in _LOOPBACK_NAMES or host == "":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str, host: object) -> None:
    msg = f"netguard: blocked {what} to {host!r} (peer harness allows loopback only)"
    blocked.append(msg)
    print(msg, file=sys.stderr, flush=True)
    raise OSError(msg)


def install() -> None:
    if getattr(socket, "_peer_netguard", False):
        return
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host):
            _refuse("name lookup", host)
        return real_getaddrinfo(host, *args, **kwargs)

    def _check(sock: socket.socket, address) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            _refuse("connect", address[0])

    def connect(self, address):
        _check(self, address)
        return real_connect(self, address)

    def connect_ex(self, address):
        _check(self, address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket._peer_netguard = True
