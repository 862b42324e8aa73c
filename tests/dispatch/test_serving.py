"""Several workers on one socket: every accepted connection gets TCP_NODELAY.

uvicorn's ``--workers`` binds its socket without naming the protocol, and
asyncio then leaves Nagle's algorithm on for the connections it accepts
(each answer after the first on a kept-alive connection waits ~40 ms for the
client's delayed ACK). `serving.listening_socket` names it; the control is
the socket as uvicorn 0.54 binds it.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from dispatch import serving


def nodelay_of_accepted(listener: socket.socket) -> int:
    """TCP_NODELAY on a connection asyncio accepted from `listener`, as its transport sets it."""

    async def accept_one() -> int:
        loop = asyncio.get_running_loop()
        accepted: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=listener)
        host, port = listener.getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    return asyncio.run(accept_one())


def test_connections_on_our_workers_socket_send_at_once() -> None:
    listener = serving.listening_socket("127.0.0.1", 0)
    assert listener.proto == socket.IPPROTO_TCP
    assert listener.get_inheritable()  # the workers are started from this process
    assert nodelay_of_accepted(listener) != 0


def test_the_socket_as_uvicorn_binds_it_leaves_nagle_on() -> None:
    # The control: how uvicorn.Config.bind_socket makes it (socket.socket(family=...)).
    listener = socket.socket(family=socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    if listener.proto != 0:
        pytest.skip("this platform names the protocol anyway")
    assert nodelay_of_accepted(listener) == 0
