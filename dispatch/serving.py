"""Serving several worker processes on one listening socket, with Nagle's algorithm off.

uvicorn's own ``--workers N`` binds its listening socket without naming the
protocol (``proto`` 0); accepted connections inherit that, and asyncio turns
``TCP_NODELAY`` on only for sockets that say ``IPPROTO_TCP``. Every answer on
a kept-alive connection after the first then waits for the client's delayed
ACK, about 40 ms on Linux (uvicorn issue 3149, open at 0.54): measured here,
a trivial endpoint answered one client in 0.9 ms with one worker and 44 ms
with two. `sprachpool serve --workers N` binds the socket itself, with the
protocol named, and hands it to uvicorn's supervisor.
"""

from __future__ import annotations

import socket
from typing import Any


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) whose accepted connections get TCP_NODELAY."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)  # the workers are started from this process
    return sock


def run_workers(config: Any) -> None:
    """Run `config.workers` uvicorn processes (`config`: a ``uvicorn.Config`` whose app is
    an import string) on one socket from `listening_socket`, restarting any that dies."""
    from uvicorn.supervisors import Multiprocess

    sock = listening_socket(config.host, config.port)
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
