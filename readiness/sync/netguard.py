"""A guard that makes any network connection attempt fail, and remembers it, while it is active.

The offline handoff cycle runs inside ``no_network()``: a code path that tries to
connect (or to resolve a host name) gets ``NetworkBlocked`` and the attempt is
recorded even when the caller swallows the error, so the proof cannot be hidden by
a ``try/except``.
"""

from __future__ import annotations

import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator


class NetworkBlocked(ConnectionRefusedError):
    """A connection attempt while the network is blocked."""


@dataclass
class NetworkLog:
    attempts: list[str] = field(default_factory=list)


@contextmanager
def no_network() -> Iterator[NetworkLog]:
    """Block ``socket.connect``/``connect_ex``, ``create_connection`` and name resolution until the block ends."""
    log = NetworkLog()
    originals = {
        (socket.socket, "connect"): socket.socket.connect,
        (socket.socket, "connect_ex"): socket.socket.connect_ex,
        (socket, "create_connection"): socket.create_connection,
        (socket, "getaddrinfo"): socket.getaddrinfo,
    }

    def refuse(what: str):
        def blocked(*args, **kwargs):
            target = args[1] if what.startswith("socket.") and len(args) > 1 else (args[0] if args else "?")
            log.attempts.append(f"{what} {target!r}")
            raise NetworkBlocked(f"network blocked: {what} {target!r}")
        return blocked

    try:
        socket.socket.connect = refuse("socket.connect")
        socket.socket.connect_ex = refuse("socket.connect_ex")
        socket.create_connection = refuse("create_connection")
        socket.getaddrinfo = refuse("getaddrinfo")
        yield log
    finally:
        for (owner, name), original in originals.items():
            setattr(owner, name, original)
