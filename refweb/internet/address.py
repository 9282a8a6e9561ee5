# -*- test-case-name: tests.test_reactor -*-
"""Addresses of the two ends of a connection, as Twisted names them.

``request.getClientAddress()`` and ``request.getHost()`` return these;
``port.getHost().port`` is how a test learns which free port ``listenTCP(0,
...)`` picked.

Start reading at ``fromSocketAddress``.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class IPv4Address:
    """A TCP address: ``type`` is "TCP", ``host`` a dotted quad, ``port`` an int."""
    type: str
    host: str
    port: int


@dataclass(frozen=True)
class IPv6Address:
    type: str
    host: str
    port: int


@dataclass(frozen=True)
class UNIXAddress:
    """A UNIX socket address: ``name`` is the socket's path (or None)."""
    name: str

    type = "UNIX"
    host = "localhost"
    port = 0


def fromSocketAddress(family_name, sockaddr):
    """Turn what socket.getsockname() returns into an address object."""
    if family_name == "AF_UNIX":
        name = sockaddr.decode() if isinstance(sockaddr, bytes) else sockaddr
        return UNIXAddress(name or None)
    if family_name == "AF_INET6":
        return IPv6Address("TCP", sockaddr[0], sockaddr[1])
    return IPv4Address("TCP", sockaddr[0], sockaddr[1])
